// Package humanize formats durations, times, maps and payloads the way the
// beignet CLI and the admin page show them to a person, so both say the
// same thing the same way.
package humanize

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Duration rounds d for a person: 250ms, 1.5s, 12s, 3m4s, 5h6m, 2d3h.
func Duration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d < time.Second:
		s = d.Round(time.Millisecond).String()
	case d < 10*time.Second:
		s = d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		s = d.Round(time.Second).String()
	case d < 48*time.Hour:
		s = strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	default:
		days := d / (24 * time.Hour)
		s = fmt.Sprintf("%dd%dh", days, (d-days*24*time.Hour)/time.Hour)
	}
	if neg {
		return "-" + s
	}
	return s
}

// Ago says how long before now t was ("-" when t is zero; "in 5s" when t
// is after now).
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if d := now.Sub(t); d < 0 {
		return "in " + Duration(-d)
	}
	return Duration(now.Sub(t)) + " ago"
}

// KV prints a map as key=value pairs sorted by key.
func KV(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, " ")
}

// Preview is the first n bytes of a payload as text, invalid UTF-8
// replaced, with an ellipsis when there was more.
func Preview(b []byte, n int) string {
	n = max(n, 0)
	s := strings.ToValidUTF8(string(b[:min(len(b), n)]), "\uFFFD")
	if len(b) > n {
		s += "…"
	}
	return s
}
