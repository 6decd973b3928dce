package scheduler_test

import (
	"sync"
	"testing"
	"time"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/scheduler"
)

// Two instances whose process TZ differ (time.Local is New York for one
// and Berlin for the other when each parses its specs) share a ledger
// across New York's autumn and spring transitions: each tick runs exactly
// once, at the same instant for both, whether the zone comes from the
// default (UTC), CRON_TZ= or WithLocation(nil).
func TestDSTTwoProcessZones(t *testing.T) {
	ny, err1 := time.LoadLocation("America/New_York")
	berlin, err2 := time.LoadLocation("Europe/Berlin")
	if err1 != nil || err2 != nil {
		t.Skip("no tzdata")
	}
	cases := []struct {
		name, spec string
		opts       []scheduler.Option
		from       time.Time
		want       int
	}{
		{"cron-tz autumn", "CRON_TZ=America/New_York 30 1 * * *", nil, time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC), 2},
		{"cron-tz spring", "CRON_TZ=America/New_York 30 2 * * *", nil, time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC), 2},
		{"default utc", "30 1 * * *", nil, time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC), 2},
		{"nil location", "30 1 * * *", []scheduler.Option{scheduler.WithLocation(nil)}, time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC), 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			onLedgersAt(t, c.from, func(t *testing.T, tp *beignettest.TestPorts) {
				var mu sync.Mutex
				ran := map[time.Time]int{}
				h := func(cc *ctx.Context) error {
					run, _ := scheduler.RunFrom(cc)
					mu.Lock()
					ran[run.Tick]++
					mu.Unlock()
					return nil
				}
				saved := time.Local
				var scheds []*scheduler.Scheduler
				for i, local := range []*time.Location{ny, berlin} {
					time.Local = local
					s := scheduler.New(tp.Ports, append([]scheduler.Option{scheduler.WithInstanceID(string(rune('a' + i)))}, c.opts...)...)
					mustAdd(t, s, "dst", c.spec, h)
					scheds = append(scheds, s)
				}
				time.Local = saved
				for _, s := range scheds {
					start(t, s)
				}
				tp.Advance(48 * time.Hour)
				mu.Lock()
				defer mu.Unlock()
				for tick, n := range ran {
					if n != 1 {
						t.Errorf("tick %v ran %d times", tick, n)
					}
				}
				if len(ran) != c.want {
					t.Errorf("ran %v, want %d ticks", ran, c.want)
				}
			})
		})
	}
}
