// Command hello greets, and says which build it is: the smallest program
// worth releasing for every target.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
)

// version is set at link time: -X main.version=...
var version = "dev"

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Printf("hello %s %s/%s\n", version, runtime.GOOS, runtime.GOARCH)
		return
	}
	name := "world"
	if flag.NArg() > 0 {
		name = flag.Arg(0)
	}
	if _, err := fmt.Printf("hello, %s\n", name); err != nil {
		os.Exit(1)
	}
}
