package main

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// --limit on runs and outbox dead, on real Redis and PostgreSQL: 0, a
// negative number and anything but a whole number are bad usage (exit 2,
// one line naming the value, then the usage hint, and no flag listing);
// the largest int64 is a valid "all of them".
func TestLimits(t *testing.T) {
	flags, _ := fleetApp(t)
	a := newAppOutbox(t)
	max := strconv.FormatInt(math.MaxInt64, 10)
	for _, cmd := range [][]string{append([]string{"runs", "daily-report"}, flags...), a.args("outbox", "dead")} {
		name := strings.Join(cmd[:2], " ")
		for _, bad := range []string{"0", "-1", "abc", "1.5", "", "9223372036854775808"} {
			args := append(append([]string(nil), cmd...), "--limit", bad)
			r := beignet(t, args...)
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if r.code != exitUsage || len(lines) != 2 || !strings.Contains(lines[0], `"`+bad+`"`) && !strings.Contains(lines[0], "--limit "+bad) ||
				!strings.HasPrefix(lines[1], "usage: beignet ") || r.stdout != "" {
				t.Errorf("%s --limit %q: exit %d, stderr %q; want exit 2, one line naming the value and the usage hint", name, bad, r.code, r.stderr)
			}
		}
		out := ok(t, append(append([]string(nil), cmd...), "--limit", max)...)
		if !strings.Contains(out, "\n") {
			t.Errorf("%s --limit %s printed %q", name, max, out)
		}
	}
	var doc struct {
		Schedule string    `json:"schedule"`
		Runs     []runJSON `json:"runs"`
	}
	okJSON(t, &doc, append([]string{"runs", "daily-report", "--limit", max}, flags...)...)
	if len(doc.Runs) != 3 {
		t.Errorf("runs --limit MaxInt64 = %d runs, want all 3", len(doc.Runs))
	}
	var dead struct {
		Dead []messageJSON `json:"dead"`
	}
	okJSON(t, &dead, a.args("outbox", "dead", "--limit", max)...)
	if len(dead.Dead) != 2 {
		t.Errorf("outbox dead --limit MaxInt64 = %d dead letters, want both", len(dead.Dead))
	}
}
