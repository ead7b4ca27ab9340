package textkit

import (
	"reflect"
	"strings"
	"testing"
)

func TestWords(t *testing.T) {
	got := Words("Hello, world! It's 2 o'clock_now", true)
	want := []string{"hello", "world", "it's", "2", "o'clock_now"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Words = %q, want %q", got, want)
	}
}

func TestTop(t *testing.T) {
	c := NewCounter()
	for _, w := range strings.Fields("b a c a b a") {
		c.Add(w)
	}
	got := c.Top(2)
	want := []Entry{{"a", 3}, {"b", 2}}
	if !reflect.DeepEqual(got, want) || c.Total() != 6 || c.Distinct() != 3 {
		t.Fatalf("Top = %v (total %d, distinct %d)", got, c.Total(), c.Distinct())
	}
}

func TestMeasure(t *testing.T) {
	st, err := Measure("x", strings.NewReader("one two\n\nthree\n"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 3 || st.Words != 3 || st.Blank != 1 || st.Longest != 7 {
		t.Fatalf("Measure = %+v", st)
	}
}
