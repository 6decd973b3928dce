package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
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
// and other non-printing characters (an escape sequence in metadata, a tab
// that would break the columns, a bidi override in a schedule name) are
// shown quoted.
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
	// Non-printing runes include bidi overrides (U+202E), which could
	// make a name read as another.
	quote := !utf8.ValidString(s)
	for _, r := range s {
		quote = quote || (r != ' ' && !unicode.IsPrint(r))
	}
	if quote {
		q := strconv.Quote(s)
		return q[1 : len(q)-1]
	}
	return s
}

// millis is a duration as whole milliseconds, the unit of every *_ms field.
func millis(d time.Duration) int64 { return d.Milliseconds() }

func uintString(n uint64) string { return strconv.FormatUint(n, 10) }
