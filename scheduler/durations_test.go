package scheduler_test

import (
	"testing"
	"time"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/testports"
	"github.com/beignet-go/beignet/scheduler"
)

// A schedule whose ticks are the longest Duration apart (@every 2562047h,
// about 292 years, 47 minutes short of math.MaxInt64) makes the claim TTL
// (interval + 2×skew + jitter + 1 s) and OverlapWait's wait (lease TTL +
// interval) overflow into negative durations unless they saturate. Its tick
// must still be claimed and run.
func TestDerivedDurationsDoNotOverflow(t *testing.T) {
	const spec = "@every 2562047h"
	sched, err := scheduler.ParseSpecAt(spec, time.UTC, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	tick := sched.Next(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if d := sched.Next(tick).Sub(tick); d < 2562047*time.Hour {
		t.Fatalf("interval %v: the spec no longer reaches the overflow", d)
	}
	for _, c := range []struct {
		name string
		skew time.Duration
		opts []scheduler.ScheduleOption
	}{
		// Twice an hour's tolerance is past the 47 minutes left.
		{"claim TTL", time.Hour, nil},
		// The claim fits with the default tolerance; an hour's lease
		// TTL plus the interval does not.
		{"overlap wait", scheduler.DefaultSkewTolerance, []scheduler.ScheduleOption{scheduler.WithOverlap(scheduler.OverlapWait), scheduler.LeaseTTL(time.Hour)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tp := testports.CreateTestPorts(t)
			tp.Clock.Advance(tick.Add(-30 * time.Second).Sub(tp.Clock.Now()))
			rec := newRecorder()
			s := scheduler.New(tp.Ports, scheduler.WithHook(rec), scheduler.WithSkewTolerance(c.skew))
			mustAdd(t, s, "rare", spec, func(*ctx.Context) error { return nil }, c.opts...)
			start(t, s)
			blockUntil(t, tp.Clock, 1)
			tp.Clock.Advance(30 * time.Second)
			reps := rec.waitFor(t, "the tick's report", func(r []scheduler.Report) bool { return len(r) == 1 })
			if reps[0].Outcome != scheduler.Ran || !reps[0].Tick.Equal(tick) {
				t.Fatalf("tick %v: %+v", tick, reps[0])
			}
		})
	}
}
