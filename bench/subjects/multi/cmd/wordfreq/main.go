// Command wordfreq prints the most frequent words of its inputs.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"example.com/multi/internal/textkit"
)

func main() {
	top := flag.Int("n", 10, "how many words to show (0: all)")
	fold := flag.Bool("i", false, "fold case")
	minLen := flag.Int("min", 1, "ignore words shorter than this")
	asJSON := flag.Bool("json", false, "JSON output")
	version := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *version {
		fmt.Println("wordfreq", textkit.Version)
		return
	}
	srcs, err := textkit.Open(flag.Args())
	if err != nil {
		textkit.Fatal("wordfreq", err)
	}
	c := textkit.NewCounter()
	for _, s := range srcs {
		err := textkit.Lines(s.R, func(_ int, line string) bool {
			for _, w := range textkit.Words(line, *fold) {
				if len([]rune(w)) >= *minLen {
					c.Add(w)
				}
			}
			return true
		})
		s.Close()
		if err != nil {
			textkit.Fatal("wordfreq", fmt.Errorf("%s: %w", s.Name, err))
		}
	}
	entries := c.Top(*top)
	err = textkit.Report(os.Stdout, *asJSON, map[string]any{
		"total": c.Total(), "distinct": c.Distinct(), "top": entries,
	}, func(w io.Writer) error {
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
		for _, e := range entries {
			fmt.Fprintf(tw, "%d\t%s\t\n", e.Count, e.Key)
		}
		fmt.Fprintf(tw, "%d\t(%d distinct)\t\n", c.Total(), c.Distinct())
		return tw.Flush()
	})
	if err != nil {
		textkit.Fatal("wordfreq", err)
	}
}
