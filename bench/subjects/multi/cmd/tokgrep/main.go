// Command tokgrep prints the lines that contain a word matching a regular
// expression, with the file name and line number.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"

	"example.com/multi/internal/textkit"
)

func main() {
	fold := flag.Bool("i", false, "fold case (words and pattern)")
	count := flag.Bool("c", false, "print only the number of matching lines per input")
	invert := flag.Bool("v", false, "select the lines without a matching word")
	version := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *version {
		fmt.Println("tokgrep", textkit.Version)
		return
	}
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: tokgrep [-i] [-c] [-v] PATTERN [FILE...]")
		os.Exit(2)
	}
	expr := "^(?:" + flag.Arg(0) + ")$"
	if *fold {
		expr = "(?i)" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		textkit.Fatal("tokgrep", err)
	}
	srcs, err := textkit.Open(flag.Args()[1:])
	if err != nil {
		textkit.Fatal("tokgrep", err)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	found := false
	for _, s := range srcs {
		n := 0
		err := textkit.Lines(s.R, func(ln int, line string) bool {
			hit := false
			for _, w := range textkit.Words(line, *fold) {
				if re.MatchString(w) {
					hit = true
					break
				}
			}
			if hit != *invert {
				n++
				if !*count {
					if len(srcs) > 1 {
						fmt.Fprintf(out, "%s:", s.Name)
					}
					fmt.Fprintf(out, "%d:%s\n", ln, line)
				}
			}
			return true
		})
		s.Close()
		if err != nil {
			out.Flush()
			textkit.Fatal("tokgrep", fmt.Errorf("%s: %w", s.Name, err))
		}
		if *count {
			fmt.Fprintf(out, "%s:%d\n", s.Name, n)
		}
		found = found || n > 0
	}
	if !found {
		out.Flush()
		os.Exit(1)
	}
}
