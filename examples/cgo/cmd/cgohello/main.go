// cgohello: a Go program with its own C file (fib.c); no external library.
package main

/*
#include "fib.h"
*/
import "C"

import (
	"fmt"
	"os"
)

var version = "dev"

func main() {
	n := 30
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Printf("cgohello %s\n", version)
		return
	}
	fmt.Printf("cgohello %s: fib(%d) = %d, computed in C (%s)\n", version, n, int(C.fib(C.int(n))),
		C.GoString(C.fib_compiler()))
}
