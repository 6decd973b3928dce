package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// emit prints doc as one indented JSON document with --json, else the
// table that table writes (tab-separated cells, one row per line).
func (inv *invocation) emit(doc any, table func(w *tabwriter.Writer)) error {
	if inv.o.json {
		enc := json.NewEncoder(inv.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	w := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
	table(w)
	return w.Flush()
}

// row writes one table row. Cells are made safe for a terminal: control
// characters (an escape sequence in a schedule name, a tab that would break
// the columns) are shown quoted.
func row(w *tabwriter.Writer, cells ...string) {
	for i, c := range cells {
		cells[i] = cell(c)
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

func cell(s string) string {
	if s == "" {
		return "-"
	}
	quote := !utf8.ValidString(s)
	for _, r := range s {
		quote = quote || r < 0x20 || (r >= 0x7f && r < 0xa0)
	}
	if quote {
		q := strconv.Quote(s)
		return q[1 : len(q)-1]
	}
	return s
}

// ago says how long before now t was, to the second ("-" when t is zero).
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return short(now.Sub(t)) + " ago"
}

// short prints d rounded for a human: 250ms, 12s, 3m4s, 5h6m, 2d3h.
func short(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d < time.Second:
		s = d.Round(time.Millisecond).String()
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

// kv prints a map as sorted key=value pairs.
func kv(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, " ")
}

// millis is a duration as whole milliseconds, the unit of every *_ms field.
func millis(d time.Duration) int64 { return d.Milliseconds() }

// preview is the start of a payload as text, for a table or a page.
func preview(b []byte, n int) string {
	s := strings.ToValidUTF8(string(b[:min(len(b), n)]), "\uFFFD")
	if len(b) > n {
		s += "…"
	}
	return s
}

func uintString(n uint64) string { return strconv.FormatUint(n, 10) }
