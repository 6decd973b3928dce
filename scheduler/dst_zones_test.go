package scheduler_test

import (
	"sync"
	"testing"
	"time"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/scheduler"
)

// Two instances share a ledger across New York's autumn and spring
// transitions: each tick runs exactly once, whether the zone comes from
// the default, CRON_TZ= or WithLocation(nil). The default and nil are UTC
// (the ticks are at 01:30 UTC), never time.Local, so instances whose
// process TZ differs compute the same ticks. (time.Local itself is not
// changed here: the runtime reads it concurrently.)
func TestDSTTwoProcessZones(t *testing.T) {
	if _, err := time.LoadLocation("America/New_York"); err != nil {
		t.Skip("no tzdata")
	}
	cases := []struct {
		name, spec string
		opts       []scheduler.Option
		from       time.Time
		want       int
		utc        bool
	}{
		{"cron-tz autumn", "CRON_TZ=America/New_York 30 1 * * *", nil, time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC), 2, false},
		{"cron-tz spring", "CRON_TZ=America/New_York 30 2 * * *", nil, time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC), 2, false},
		{"default utc", "30 1 * * *", nil, time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC), 2, true},
		{"nil location", "30 1 * * *", []scheduler.Option{scheduler.WithLocation(nil)}, time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC), 2, true},
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
				for _, id := range []string{"a", "b"} {
					s := scheduler.New(tp.Ports, append([]scheduler.Option{scheduler.WithInstanceID(id)}, c.opts...)...)
					mustAdd(t, s, "dst", c.spec, h)
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
				for tick := range ran {
					if c.utc && (tick.Hour() != 1 || tick.Minute() != 30) {
						t.Errorf("tick %v is not 01:30 UTC", tick)
					}
				}
			})
		})
	}
}

// ParseSpec with a nil location reads the spec in UTC, whatever zone the
// times it is asked about are in. robfig's default, time.Local, means
// "the zone of the time passed to Next", and a real clock's Now is in the
// process's TZ: instances whose TZ differs would each tick at their own
// 01:30.
func TestParseSpecNilLocationIsUTC(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata")
	}
	from := time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC)
	sched, err := scheduler.ParseSpecAt("30 1 * * *", nil, from)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 1, 1, 30, 0, 0, time.UTC)
	for _, at := range []time.Time{from, from.In(ny), from.In(time.FixedZone("UTC+9", 9*3600))} {
		if got := sched.Next(at); !got.Equal(want) {
			t.Errorf("Next(%v) = %v, want %v", at, got, want)
		}
	}
}
