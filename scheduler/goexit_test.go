package scheduler_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"
)

// A handler that calls runtime.Goexit (as t.FailNow does) is reported as a
// failed run, its lease is released, and the next tick runs: it does not
// block its schedule.
func TestHandlerGoexitDoesNotBlockTheSchedule(t *testing.T) {
	tp := newPorts(t)
	rec := newRecorder()
	s := scheduler.New(tp.Ports, scheduler.WithHook(rec))
	var calls atomic.Int64
	mustAdd(t, s, "exits", "@every 1m", func(*ctx.Context) error {
		if calls.Add(1) == 1 {
			runtime.Goexit()
		}
		return nil
	})
	start(t, s)
	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(30 * time.Second)
	reps := rec.waitFor(t, "the Goexit run's report", func(r []scheduler.Report) bool { return len(r) == 1 })
	if reps[0].Outcome != scheduler.Failed || !errors.Is(reps[0].Err, scheduler.ErrGoexit) {
		t.Fatalf("Goexit run reported %+v, want failed with ErrGoexit", reps[0])
	}
	if _, held := tp.Locks.Leases()["schedule:exits"]; held {
		t.Fatal("the Goexit run's lease is still held")
	}
	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(time.Minute)
	rec.waitFor(t, "the next tick's run", func(r []scheduler.Report) bool { return count(r, scheduler.Ran) == 1 })
}

// A task pass that calls runtime.Goexit, or panics, is reported, releases
// its lease, and the task's next pass runs.
func TestTaskGoexitAndPanicDoNotStopTheTask(t *testing.T) {
	tp := newPorts(t)
	rec := newRecorder()
	s := scheduler.New(tp.Ports, scheduler.WithHook(rec))
	var calls atomic.Int64
	if err := s.AddTask(scheduler.Task{Name: "drain", Key: "outbox:exits", Interval: time.Second,
		Run: func(context.Context, locks.Lease) error {
			switch calls.Add(1) {
			case 1:
				runtime.Goexit()
			case 2:
				panic("kaboom")
			}
			return nil
		}}); err != nil {
		t.Fatal(err)
	}
	start(t, s)
	for i := 1; i <= 3; i++ {
		blockUntil(t, tp.Clock, 1)
		tp.Clock.Advance(time.Second)
		rec.waitFor(t, "the pass's report", func(r []scheduler.Report) bool { return len(r) == i })
	}
	reps := rec.all()
	if reps[0].Outcome != scheduler.Failed || !errors.Is(reps[0].Err, scheduler.ErrGoexit) {
		t.Errorf("Goexit pass reported %+v, want failed with ErrGoexit", reps[0])
	}
	if reps[1].Outcome != scheduler.Panicked || reps[1].Err == nil {
		t.Errorf("panicking pass reported %+v, want panicked", reps[1])
	}
	if reps[2].Outcome != scheduler.Ran {
		t.Errorf("third pass reported %+v, want ran", reps[2])
	}
}
