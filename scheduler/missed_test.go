package scheduler_test

import (
	"testing"
	"time"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/testports"
	"github.com/beignet-go/beignet/scheduler"
)

// startDaily starts a scheduler with a 07:00 UTC schedule on tp.
func startDaily(t *testing.T, tp *testports.TestPorts, rec *recorder, opts ...scheduler.ScheduleOption) {
	s := scheduler.New(tp.Ports, scheduler.WithLocation(time.UTC), scheduler.WithHook(rec))
	mustAdd(t, s, "daily", "0 7 * * *", func(*ctx.Context) error { return nil }, opts...)
	start(t, s)
}

func TestRunMissedCatchesUpOnce(t *testing.T) {
	tp := testports.CreateTestPorts(t)
	tp.Clock.Advance(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).Sub(tp.Clock.Now()))

	// No instance was up at 07:00. The first to start with RunMissed runs
	// that tick once; a second starting later finds it done.
	rec := newRecorder()
	startDaily(t, tp, rec, scheduler.RunMissed())
	reps := rec.waitFor(t, "the catch-up run", func(r []scheduler.Report) bool { return len(r) == 1 })
	if want := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC); reps[0].Outcome != scheduler.Ran || !reps[0].Tick.Equal(want) {
		t.Fatalf("catch-up report = %+v, want a run of %v", reps[0], want)
	}
	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(5 * time.Minute)

	// The second instance shares the backend through a watcher, to see
	// its claim attempt for 07:00 fail.
	watcher := newClaimWatcher(tp.Ledger)
	ports2 := *tp.Ports
	ports2.Ledger = watcher
	rec2 := newRecorder()
	s2 := scheduler.New(&ports2, scheduler.WithLocation(time.UTC), scheduler.WithHook(rec2))
	mustAdd(t, s2, "daily", "0 7 * * *", func(*ctx.Context) error { return nil }, scheduler.RunMissed())
	start(t, s2)
	if won := watcher.waitAttempts(t, 1); won != 0 {
		t.Fatalf("second instance won the claim for a tick that already ran")
	}
	if r := rec2.all(); len(r) != 0 {
		t.Fatalf("second instance replayed the tick: %+v", r)
	}
}

func TestMissedTickNotReplayedByDefault(t *testing.T) {
	tp := testports.CreateTestPorts(t)
	tp.Clock.Advance(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).Sub(tp.Clock.Now()))
	rec := newRecorder()
	startDaily(t, tp, rec)
	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(21*time.Hour + time.Minute) // to 06:01 the next day
	blockUntil(t, tp.Clock, 1)
	if r := rec.all(); len(r) != 0 {
		t.Fatalf("a tick before start was replayed: %+v", r)
	}
	tp.Clock.Advance(59 * time.Minute)
	reps := rec.waitFor(t, "the next 07:00", func(r []scheduler.Report) bool { return len(r) == 1 })
	if want := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC); !reps[0].Tick.Equal(want) {
		t.Fatalf("tick %v, want %v", reps[0].Tick, want)
	}
}

func TestJitterDelaysTheRunNotTheTick(t *testing.T) {
	tp := newPorts(t)
	rec := newRecorder()
	s := scheduler.New(tp.Ports, scheduler.WithHook(rec))
	mustAdd(t, s, "spread", "@every 1m", func(*ctx.Context) error { return nil }, scheduler.Jitter(30*time.Second))
	start(t, s)
	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(30 * time.Second)
	blockUntil(t, tp.Clock, 2) // the next tick, and this run's jitter delay
	tp.Clock.Advance(30 * time.Second)
	reps := rec.waitFor(t, "the jittered run", func(r []scheduler.Report) bool { return count(r, scheduler.Ran) >= 1 })
	if want := time.Date(2026, 12, 1, 0, 1, 0, 0, time.UTC); !reps[0].Tick.Equal(want) {
		t.Fatalf("jittered run tick %v, want %v", reps[0].Tick, want)
	}
}
