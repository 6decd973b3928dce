package humanize

import (
	"math"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                     "0s",
		1500 * time.Microsecond:               "2ms",
		12*time.Second + 400*time.Millisecond: "12s",
		3*time.Minute + 4*time.Second:         "3m4s",
		5*time.Hour + 6*time.Minute:           "5h6m",
		51 * time.Hour:                        "2d3h",
		-90 * time.Second:                     "-1m30s",
		math.MaxInt64:                         "106751d23h",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	for at, want := range map[time.Time]string{
		{}:                        "-",
		now.Add(-3 * time.Second): "3s ago",
		now.Add(5 * time.Second):  "in 5s",
	} {
		if got := Ago(now, at); got != want {
			t.Errorf("Ago(%v) = %q, want %q", at, got, want)
		}
	}
}

func TestKVAndPreview(t *testing.T) {
	if got := KV(map[string]string{"b": "2", "a": "1"}); got != "a=1 b=2" {
		t.Errorf("KV = %q", got)
	}
	if got := KV(nil); got != "" {
		t.Errorf("KV(nil) = %q", got)
	}
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 2, "he…"},
		{"hello", 0, "…"},
		{"hello", -1, "…"},
		{"", 5, ""},
		{"\xff\xfeok", 10, "\uFFFDok"},
	} {
		if got := Preview([]byte(c.in), c.n); got != c.want {
			t.Errorf("Preview(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
