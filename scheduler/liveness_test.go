package scheduler_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"
)

// stuckClock's timers never fire while its time moves on: a loop on it
// never turns, as if it had deadlocked.
type stuckClock struct{ *clockwork.FakeClock }

func (c stuckClock) NewTimer(d time.Duration) clockwork.Timer {
	return c.FakeClock.NewTimer(d + 1000*time.Hour)
}

func TestCheckLoops(t *testing.T) {
	fake := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC))
	ports := &ctx.Ports{Clock: stuckClock{fake}, Locks: locks.NewMemory(locks.WithClock(fake)), Logger: zaptest.NewLogger(t)}

	if err := scheduler.New(ports).CheckLoops(); err != nil {
		t.Errorf("a scheduler with nothing to run: CheckLoops = %v, want nil", err)
	}
	s := scheduler.New(ports, scheduler.WithLocation(time.UTC))
	mustAdd(t, s, "every-minute", "* * * * *", func(*ctx.Context) error { return nil })
	if err := s.CheckLoops(); !errors.Is(err, scheduler.ErrNotRunning) {
		t.Errorf("before Start: CheckLoops = %v, want ErrNotRunning", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = s.Stop(context.Background())
		}
	})
	blockUntil(t, fake, 1)
	if err := s.CheckLoops(); err != nil {
		t.Errorf("loop armed for the next tick: CheckLoops = %v", err)
	}
	// Armed at 00:00:30 for 00:01:00: the 30 s interval's second one ends
	// at 00:01:30.
	fake.Advance(time.Minute)
	if err := s.CheckLoops(); err != nil {
		t.Errorf("exactly two intervals without a turn: CheckLoops = %v, want nil", err)
	}
	fake.Advance(time.Nanosecond)
	err := s.CheckLoops()
	if !errors.Is(err, scheduler.ErrStalled) || !strings.Contains(err.Error(), `"every-minute"`) {
		t.Errorf("past two intervals without a turn: CheckLoops = %v, want ErrStalled naming the schedule", err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if err := s.CheckLoops(); !errors.Is(err, scheduler.ErrNotRunning) {
		t.Errorf("after Stop: CheckLoops = %v, want ErrNotRunning", err)
	}
}

// Loops that keep turning, a schedule's and a busy task's, never count as
// stalled, however far the clock goes.
func TestCheckLoopsWhileTurning(t *testing.T) {
	tp := newPorts(t)
	s := scheduler.New(tp.Ports, scheduler.WithLocation(time.UTC))
	mustAdd(t, s, "every-minute", "* * * * *", func(*ctx.Context) error { return nil })
	var passes atomic.Int64
	if err := s.AddTask(scheduler.Task{Name: "drain", Key: "drain", Interval: time.Second,
		Run: func(context.Context, locks.Lease) error { passes.Add(1); return nil }}); err != nil {
		t.Fatal(err)
	}
	start(t, s)
	for range 5 {
		tp.Advance(30 * time.Second)
		if err := s.CheckLoops(); err != nil {
			t.Fatalf("at %v: CheckLoops = %v", tp.Clock.Now(), err)
		}
	}
	if passes.Load() == 0 {
		t.Fatal("the task never ran: the loops did not turn")
	}
}
