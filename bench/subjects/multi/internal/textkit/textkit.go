// Package textkit is the shared core of the multi subject's commands:
// reading inputs, splitting text into words, counting and reporting.
package textkit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Version is what every command prints for -version.
const Version = "1.0.0"

// Source is one named input.
type Source struct {
	Name string
	R    io.Reader
	c    io.Closer
}

// Close closes the input unless it is stdin.
func (s *Source) Close() error {
	if s.c == nil {
		return nil
	}
	return s.c.Close()
}

// Open opens the named files, or stdin when there are none ("-" is stdin too).
func Open(names []string) ([]*Source, error) {
	if len(names) == 0 {
		return []*Source{{Name: "-", R: os.Stdin}}, nil
	}
	var out []*Source
	for _, n := range names {
		if n == "-" {
			out = append(out, &Source{Name: n, R: os.Stdin})
			continue
		}
		f, err := os.Open(n)
		if err != nil {
			for _, s := range out {
				s.Close()
			}
			return nil, err
		}
		out = append(out, &Source{Name: n, R: f, c: f})
	}
	return out, nil
}

// Lines calls fn for every line of r (without the newline); a false
// return stops the scan.
func Lines(r io.Reader, fn func(n int, line string) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	n := 0
	for sc.Scan() {
		n++
		if !fn(n, sc.Text()) {
			break
		}
	}
	return sc.Err()
}

// Words splits a line into words: runs of letters, digits, '_' and '\''.
// With fold, words are lower-cased.
func Words(line string, fold bool) []string {
	var words []string
	start := -1
	for i, r := range line {
		in := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '\''
		if in && start < 0 {
			start = i
		} else if !in && start >= 0 {
			words = append(words, norm(line[start:i], fold))
			start = -1
		}
	}
	if start >= 0 {
		words = append(words, norm(line[start:], fold))
	}
	return words
}

func norm(w string, fold bool) string {
	w = strings.Trim(w, "'")
	if fold {
		w = strings.ToLower(w)
	}
	return w
}

// Counter counts strings.
type Counter struct {
	m     map[string]int
	total int
}

// NewCounter returns an empty counter.
func NewCounter() *Counter { return &Counter{m: make(map[string]int)} }

// Add counts s once (empty strings are ignored).
func (c *Counter) Add(s string) {
	if s == "" {
		return
	}
	c.m[s]++
	c.total++
}

// Total is the number of strings added; Distinct the number of different ones.
func (c *Counter) Total() int    { return c.total }
func (c *Counter) Distinct() int { return len(c.m) }

// Entry is one counted string.
type Entry struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// Top returns the n most frequent entries (all when n <= 0), most frequent
// first, ties in byte order.
func (c *Counter) Top(n int) []Entry {
	out := make([]Entry, 0, len(c.m))
	for k, v := range c.m {
		out = append(out, Entry{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Stats describes a text.
type Stats struct {
	Name      string  `json:"name"`
	Lines     int     `json:"lines"`
	Words     int     `json:"words"`
	Runes     int     `json:"runes"`
	Bytes     int     `json:"bytes"`
	Longest   int     `json:"longest_line"`
	Blank     int     `json:"blank_lines"`
	MeanWords float64 `json:"mean_words_per_line"`
}

// Measure reads r to the end and returns its statistics.
func Measure(name string, r io.Reader) (Stats, error) {
	st := Stats{Name: name}
	err := Lines(r, func(_ int, line string) bool {
		st.Lines++
		st.Bytes += len(line) + 1
		n := utf8.RuneCountInString(line)
		st.Runes += n + 1
		if n > st.Longest {
			st.Longest = n
		}
		if strings.TrimSpace(line) == "" {
			st.Blank++
		}
		st.Words += len(Words(line, false))
		return true
	})
	if st.Lines > 0 {
		st.MeanWords = float64(st.Words) / float64(st.Lines)
	}
	return st, err
}

// Report writes v as indented JSON, or with text as the plain form.
func Report(w io.Writer, asJSON bool, v any, text func(io.Writer) error) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return text(w)
}

// Fatal prints "prog: err" on stderr and exits 1.
func Fatal(prog string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", prog, err)
	os.Exit(1)
}
