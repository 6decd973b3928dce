package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// fleetLeases holds leases as a fleet's instances would, under a prefix of
// the test's own, and returns the flags that point the CLI at them.
func fleetLeases(t *testing.T) (flags []string, held map[string]locks.Lease) {
	t.Helper()
	c := redistest.SharedClient(t)
	prefix := redistest.UniquePrefix(t, c)
	l := redislocks.New(c, prefix)
	held = map[string]locks.Lease{}
	for key, md := range map[string]map[string]string{
		"schedule:daily-report": {"instance": "web-1", "tick": "2026-12-01T07:00:00Z"},
		"schedule:render-pdfs":  {"instance": "web-2"},
		"outbox:report-events":  {"instance": "web-1"},
		"tenant:<script>":       {"note": "a\tb\x1b[31m"},
	} {
		res, err := l.Acquire(context.Background(), key, locks.Options{TTL: time.Minute, Metadata: md})
		if err != nil || !res.Acquired {
			t.Fatalf("acquire %q: %v, %v", key, res, err)
		}
		held[key] = res.Lease
	}
	return []string{"--redis-url", "redis://" + redistest.SharedAddr(), "--redis-prefix", prefix}, held
}

type leasesDoc struct {
	Leases []leaseJSON `json:"leases"`
}

func TestLeases(t *testing.T) {
	flags, held := fleetLeases(t)

	var doc leasesDoc
	okJSON(t, &doc, append([]string{"leases"}, flags...)...)
	var keys []string
	for _, l := range doc.Leases {
		keys = append(keys, l.Key)
	}
	if got := strings.Join(keys, " "); got != "outbox:report-events schedule:daily-report schedule:render-pdfs tenant:<script>" {
		t.Fatalf("leases = %q", got)
	}
	d := doc.Leases[1]
	if d.Holder != "web-1" || d.FencingToken != held["schedule:daily-report"].FencingToken() ||
		d.Metadata["tick"] != "2026-12-01T07:00:00Z" || d.TTLMillis <= 50_000 || d.TTLMillis > 60_000 ||
		d.AcquiredAt == nil || d.ExpiresAt.IsZero() {
		t.Errorf("daily-report lease = %+v", d)
	}

	okJSON(t, &doc, append([]string{"leases", "schedule:*"}, flags...)...)
	if len(doc.Leases) != 2 {
		t.Errorf("leases 'schedule:*' = %+v, want the two schedules", doc.Leases)
	}
	okJSON(t, &doc, append([]string{"leases", "nothing:*"}, flags...)...)
	if doc.Leases == nil || len(doc.Leases) != 0 {
		t.Errorf("no match: %#v, want an empty list (not null)", doc.Leases)
	}

	table := ok(t, append([]string{"leases"}, flags...)...)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "KEY") {
		t.Fatalf("table = %q", table)
	}
	if f := strings.Fields(lines[2]); f[0] != "schedule:daily-report" || f[1] != "web-1" || f[2] != d.uintToken() ||
		!strings.Contains(lines[2], "tick=2026-12-01T07:00:00Z") {
		t.Errorf("daily-report row = %q", lines[2])
	}
	// A tab or an escape sequence in metadata must not break the columns
	// or reach the terminal raw.
	if !strings.Contains(lines[4], `note=a\tb\x1b[31m`) || strings.ContainsAny(table, "\x1b\t") {
		t.Errorf("control characters not escaped: %q", lines[4])
	}
}

func (l leaseJSON) uintToken() string { return uintString(l.FencingToken) }

// The CLI reads the app's variables when no flag is given.
func TestLeasesFromTheEnvironment(t *testing.T) {
	flags, _ := fleetLeases(t)
	t.Setenv(redislocks.EnvURL, flags[1])
	t.Setenv(redislocks.EnvPrefix, flags[3])
	var doc leasesDoc
	okJSON(t, &doc, "leases", "outbox:*")
	if len(doc.Leases) != 1 || doc.Leases[0].Key != "outbox:report-events" {
		t.Errorf("leases from the environment = %+v", doc.Leases)
	}
}

func TestLeasesUnreachable(t *testing.T) {
	addr := nowhere(t)
	fails(t, exitFailure, []string{"leases", "--redis-url", "redis://" + addr}, "leases:", addr)
	fails(t, exitFailure, []string{"leases", "--json", "--redis-url", "redis://" + addr}, addr)
	fails(t, exitFailure, []string{"leases", "--redis-url", "http://x"}, "http://x", "invalid URL scheme")
}
