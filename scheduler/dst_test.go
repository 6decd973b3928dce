package scheduler_test

import (
	"sync"
	"testing"
	"time"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/scheduler"
)

// Across both DST transitions of America/New_York and Europe/Berlin, on a
// fake clock: a wall-clock time in the repeated autumn hour runs once; a
// tick in the skipped spring hour runs once, at the transition; no tick
// runs twice.
func TestDSTTransitions(t *testing.T) {
	cases := []struct {
		name, zone, spec string
		from             time.Time // UTC, the day before
		want             []string  // local wall-clock times of the runs over two days
	}{
		{"new-york spring daily", "America/New_York", "30 2 * * *", time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC),
			[]string{"2026-03-08 03:00 EDT", "2026-03-09 02:30 EDT"}},
		{"new-york autumn daily", "America/New_York", "30 1 * * *", time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC),
			[]string{"2026-11-01 01:30 EDT", "2026-11-02 01:30 EST"}},
		{"berlin spring daily", "Europe/Berlin", "30 2 * * *", time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC),
			[]string{"2026-03-29 03:00 CEST", "2026-03-30 02:30 CEST"}},
		{"berlin autumn daily", "Europe/Berlin", "30 2 * * *", time.Date(2026, 10, 24, 12, 0, 0, 0, time.UTC),
			[]string{"2026-10-25 02:30 CEST", "2026-10-26 02:30 CET"}},
		{"new-york spring hourly", "America/New_York", "0 * * * *", time.Date(2026, 3, 8, 4, 30, 0, 0, time.UTC),
			[]string{"2026-03-08 00:00 EST", "2026-03-08 01:00 EST", "2026-03-08 03:00 EDT", "2026-03-08 04:00 EDT"}},
		{"berlin autumn hourly", "Europe/Berlin", "0 * * * *", time.Date(2026, 10, 24, 22, 30, 0, 0, time.UTC),
			[]string{"2026-10-25 01:00 CEST", "2026-10-25 02:00 CEST", "2026-10-25 03:00 CET"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loc, err := time.LoadLocation(c.zone)
			if err != nil {
				t.Skip("no tzdata:", err)
			}
			onLedgersAt(t, c.from, func(t *testing.T, tp *beignettest.TestPorts) {
				var mu sync.Mutex
				var got []string
				s := scheduler.New(tp.Ports, scheduler.WithLocation(loc))
				mustAdd(t, s, "dst", c.spec, func(ctx *ctx.Context) error {
					run, _ := scheduler.RunFrom(ctx)
					mu.Lock()
					defer mu.Unlock()
					got = append(got, run.Tick.In(loc).Format("2006-01-02 15:04 MST"))
					return nil
				})
				start(t, s)
				span := 48 * time.Hour
				if len(c.want) > 2 { // hourly
					span = 4 * time.Hour // from half an hour before the first
				}
				tp.Advance(span)
				mu.Lock()
				defer mu.Unlock()
				if len(got) != len(c.want) {
					t.Fatalf("runs %v, want %v", got, c.want)
				}
				for i := range got {
					if got[i] != c.want[i] {
						t.Fatalf("runs %v, want %v", got, c.want)
					}
				}
			})
		})
	}
}

// The policy holds for any tick sequence: strictly increasing, with each
// wall-clock time at most once.
func TestDSTNoTickTwice(t *testing.T) {
	for _, zone := range []string{"America/New_York", "Europe/Berlin"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Skip("no tzdata:", err)
		}
		for _, spec := range []string{"*/15 * * * *", "0 * * * *", "30 1-3 * * *", "0 2 * * *"} {
			sched, err := scheduler.ParseSpecAt(spec, loc, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			tick := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for tick.Year() == 2026 {
				next := sched.Next(tick)
				if !next.After(tick) {
					t.Fatalf("%s %q: tick %v after %v", zone, spec, next, tick)
				}
				wall := next.In(loc).Format("2006-01-02 15:04")
				if seen[wall] {
					t.Fatalf("%s %q: wall-clock %s ticks twice", zone, spec, wall)
				}
				seen[wall] = true
				tick = next
			}
		}
	}
}

// onLedgersAt is onLedgers with the fake clock starting at start.
func onLedgersAt(t *testing.T, start time.Time, fn func(t *testing.T, tp *beignettest.TestPorts)) {
	t.Run("memory", func(t *testing.T) {
		fn(t, beignettest.CreateTestPorts(t, beignettest.StartAt(start)))
	})
	t.Run("redis", func(t *testing.T) {
		if testing.Short() {
			t.Skip("needs Redis")
		}
		tp := beignettest.CreateTestPorts(t, beignettest.StartAt(start))
		useRedisLedger(t, tp)
		fn(t, tp)
	})
}
