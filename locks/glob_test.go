package locks

import (
	"strings"
	"testing"
	"time"
)

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, key string
		want         bool
	}{
		{"", "anything", true},
		{"*", "", true},
		{"", "", true},
		{"a", "", false},
		{"a*", "abc", true},
		{"*c", "abc", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[ab]x", "bx", true},
		{"[^ab]x", "bx", false},
		{"[a-c]", "b", true},
		{"[c-a]", "b", true}, // a reversed range is the same range
		{"[]", "x", false},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{`[\]]`, "]", true},
		{`a\`, `a\`, true},  // a trailing backslash is literal
		{"[abc", "b", true}, // an unclosed class runs to the end
		{"*a*b", "xaxxb", true},
		{"*a*b", "xaxxbc", false},
		{"schedule:*:tick:*", "schedule:report:tick:2026", true},
	} {
		if got := compileGlob(c.pattern).match(c.key); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.pattern, c.key, got, c.want)
		}
	}
}

// A pattern an operator types must not take exponential time: a naive
// recursive matcher needs about n^k steps for k stars on an n-byte key.
func TestGlobWorstCaseIsPolynomial(t *testing.T) {
	key := strings.Repeat("a", MaxKeyBytes)
	g := compileGlob(strings.Repeat("*a", 20) + "b")
	start := time.Now()
	if g.match(key) {
		t.Fatal("matched a key without b")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}
