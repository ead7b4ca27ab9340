// Command linestat prints line, word, rune and byte statistics per input.
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
	asJSON := flag.Bool("json", false, "JSON output")
	version := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *version {
		fmt.Println("linestat", textkit.Version)
		return
	}
	srcs, err := textkit.Open(flag.Args())
	if err != nil {
		textkit.Fatal("linestat", err)
	}
	var all []textkit.Stats
	total := textkit.Stats{Name: "total"}
	for _, s := range srcs {
		st, err := textkit.Measure(s.Name, s.R)
		s.Close()
		if err != nil {
			textkit.Fatal("linestat", fmt.Errorf("%s: %w", s.Name, err))
		}
		all = append(all, st)
		total.Lines += st.Lines
		total.Words += st.Words
		total.Runes += st.Runes
		total.Bytes += st.Bytes
		total.Blank += st.Blank
		if st.Longest > total.Longest {
			total.Longest = st.Longest
		}
	}
	if total.Lines > 0 {
		total.MeanWords = float64(total.Words) / float64(total.Lines)
	}
	if len(all) > 1 {
		all = append(all, total)
	}
	err = textkit.Report(os.Stdout, *asJSON, all, func(w io.Writer) error {
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "lines\twords\trunes\tbytes\tlongest\tblank\twords/line\tname\t")
		for _, st := range all {
			fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%s\t\n", st.Lines, st.Words, st.Runes,
				st.Bytes, st.Longest, st.Blank, st.MeanWords, st.Name)
		}
		return tw.Flush()
	})
	if err != nil {
		textkit.Fatal("linestat", err)
	}
}
