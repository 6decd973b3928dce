package scheduler_test

import (
	"testing"
	"time"

	"github.com/beignet-go/beignet/scheduler"
)

// ParseSpecAt takes user input: it must never panic, and a spec it accepts
// must give ticks that move forward.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"0 7 * * *", "*/5 * * * * *", "@daily", "@every 30s", "@every 1h30m",
		"CRON_TZ=Europe/Paris 0 7 * * *", "TZ=UTC", "TZ=", "CRON_TZ= 0 7 * * *",
		"0 0 30 2 *", "61 * * * *", "@every -1s", "@every 0s", "* * * * * * *", "",
		"@reboot", "0-59/0 * * * *", "1-0 * * * *", "MON-SUN * * * *",
	} {
		f.Add(s)
	}
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := scheduler.ParseSpecAt(spec, time.UTC, from)
		if err != nil {
			return
		}
		a := s.Next(from)
		if !a.After(from) {
			t.Fatalf("%q: Next(%v) = %v, not after", spec, from, a)
		}
		if b := s.Next(a); !b.IsZero() && !b.After(a) {
			t.Fatalf("%q: Next(%v) = %v, not after", spec, a, b)
		}
	})
}
