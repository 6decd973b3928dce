package scheduler_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"
)

func TestTaskRunsOnIntervalAndWake(t *testing.T) {
	tp := newPorts(t)
	rec := newRecorder()
	s := scheduler.New(tp.Ports, scheduler.WithHook(rec))
	wake := make(chan struct{}, 1)
	passes := make(chan uint64, 10)
	err := s.AddTask(scheduler.Task{
		Name: "drain", Key: "outbox:test", Interval: time.Second, Wake: wake,
		Run: func(_ context.Context, l locks.Lease) error {
			passes <- l.FencingToken()
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	start(t, s)
	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(time.Second)
	first := <-passes
	blockUntil(t, tp.Clock, 1)
	wake <- struct{}{} // no clock movement: only the wake can start this pass
	if second := <-passes; second <= first {
		t.Fatalf("second pass token %d not above %d", second, first)
	}
	rec.waitFor(t, "two pass reports", func(r []scheduler.Report) bool { return count(r, scheduler.Ran) == 2 })
	if c := s.Counts("drain"); c[scheduler.Ran] != 2 {
		t.Fatalf("counts = %v", c)
	}
}

func TestTaskSkipsWhileAnotherInstanceHoldsIt(t *testing.T) {
	tp := newPorts(t)
	holder, err := tp.Locks.Acquire(context.Background(), "outbox:test", locks.Options{TTL: time.Hour})
	if err != nil || !holder.Acquired {
		t.Fatal(holder, err)
	}
	s := scheduler.New(tp.Ports)
	ran := make(chan struct{}, 10)
	if err := s.AddTask(scheduler.Task{Name: "drain", Key: "outbox:test", Interval: time.Second,
		Run: func(context.Context, locks.Lease) error { ran <- struct{}{}; return nil }}); err != nil {
		t.Fatal(err)
	}
	start(t, s)
	for i := 0; i < 3; i++ {
		blockUntil(t, tp.Clock, 1)
		tp.Clock.Advance(time.Second)
	}
	blockUntil(t, tp.Clock, 1) // third pass done: the loop waits again
	if len(ran) != 0 || s.Counts("drain")[scheduler.SkippedHeld] != 3 {
		t.Fatalf("ran %d passes while held; counts %v", len(ran), s.Counts("drain"))
	}
}

func TestAddTaskRejectsBadInput(t *testing.T) {
	tp := newPorts(t)
	s := scheduler.New(tp.Ports)
	run := func(context.Context, locks.Lease) error { return nil }
	for _, c := range []struct {
		name string
		task scheduler.Task
		want error
	}{
		{"no name", scheduler.Task{Key: "k", Interval: time.Second, Run: run}, scheduler.ErrInvalidName},
		{"no run", scheduler.Task{Name: "n", Key: "k", Interval: time.Second}, scheduler.ErrNilHandler},
		{"no interval", scheduler.Task{Name: "n", Key: "k", Run: run}, scheduler.ErrInvalidOption},
		{"bad key", scheduler.Task{Name: "n", Key: "", Interval: time.Second, Run: run}, scheduler.ErrInvalidOption},
		{"ttl over locks.MaxTTL", scheduler.Task{Name: "n", Key: "k", Interval: time.Second, TTL: locks.MaxTTL + 1, Run: run}, locks.ErrInvalidTTL},
	} {
		if err := s.AddTask(c.task); !errors.Is(err, c.want) {
			t.Errorf("%s: AddTask = %v, want %v", c.name, err, c.want)
		}
	}
}

// A task pass that only ends when its ctx does (a drain with a stuck
// publisher) must not hold Stop past its deadline: Stop cancels the pass
// and returns the deadline's error.
func TestStopDeadlineCancelsRunningTaskPass(t *testing.T) {
	tp := newPorts(t)
	s := scheduler.New(tp.Ports)
	running := make(chan struct{})
	cause := make(chan error, 1)
	if err := s.AddTask(scheduler.Task{Name: "drain", Key: "outbox:stuck", Interval: time.Second,
		Run: func(c context.Context, _ locks.Lease) error {
			close(running)
			<-c.Done()
			cause <- context.Cause(c)
			return c.Err()
		}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(time.Second)
	<-running

	stopCtx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(stopCtx) }()
	select {
	case err := <-stopped:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Stop = %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second): // failure guard only
		t.Fatal("Stop still blocked 10 s after a 50 ms deadline")
	}
	if c := <-cause; !errors.Is(c, scheduler.ErrStopped) {
		t.Fatalf("pass ctx cause = %v, want ErrStopped", c)
	}
	if _, held := tp.Locks.Leases()["outbox:stuck"]; held {
		t.Fatal("task lease still held after Stop")
	}
}

// Schedules and tasks share one namespace, whichever comes first, and a
// rejected name leaves the existing one's counts alone.
func TestSchedulesAndTasksShareNames(t *testing.T) {
	run := func(context.Context, locks.Lease) error { return nil }
	t.Run("schedule first", func(t *testing.T) {
		tp := newPorts(t)
		rec := newRecorder()
		s := scheduler.New(tp.Ports, scheduler.WithHook(rec))
		mustAdd(t, s, "shared", "@every 1m", func(*ctx.Context) error { return nil })
		start(t, s)
		blockUntil(t, tp.Clock, 1)
		tp.Clock.Advance(30 * time.Second)
		rec.waitFor(t, "the schedule's run", func(r []scheduler.Report) bool { return count(r, scheduler.Ran) == 1 })
		err := s.AddTask(scheduler.Task{Name: "shared", Key: "task:shared", Interval: time.Second, Run: run})
		if !errors.Is(err, scheduler.ErrDuplicateName) || !strings.Contains(err.Error(), `"shared"`) {
			t.Fatalf("AddTask after Add = %v, want ErrDuplicateName naming %q", err, "shared")
		}
		if c := s.Counts("shared"); c[scheduler.Ran] != 1 {
			t.Fatalf("counts after the rejected AddTask = %v, want the schedule's run kept", c)
		}
	})
	t.Run("task first", func(t *testing.T) {
		s := scheduler.New(newPorts(t).Ports)
		if err := s.AddTask(scheduler.Task{Name: "shared", Key: "task:shared", Interval: time.Second, Run: run}); err != nil {
			t.Fatal(err)
		}
		err := s.Add("shared", "@every 1m", func(*ctx.Context) error { return nil })
		if !errors.Is(err, scheduler.ErrDuplicateName) || !strings.Contains(err.Error(), `"shared"`) {
			t.Fatalf("Add after AddTask = %v, want ErrDuplicateName naming %q", err, "shared")
		}
	})
}
