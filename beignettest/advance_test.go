package beignettest_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/scheduler"
)

// reports records every run report, safe for the scheduler's goroutines.
type reports struct {
	mu   sync.Mutex
	list []scheduler.Report
}

func (r *reports) OnRun(rep scheduler.Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, rep)
}

func (r *reports) all() []scheduler.Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]scheduler.Report(nil), r.list...)
}

func startEveryMinute(t *testing.T, tp *beignettest.TestPorts, h scheduler.Handler) *reports {
	t.Helper()
	rec := &reports{}
	s := scheduler.New(tp.Ports, scheduler.WithHook(rec))
	if err := s.Add("every-minute", "* * * * *", h); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return rec
}

func noop(*ctx.Context) error { return nil }

// The test a user writes first: three Advances of a minute, three runs on
// the first three minute boundaries, every one ran.
func TestThreeMinutesThreeRuns(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	rec := startEveryMinute(t, tp, noop)
	start := tp.Clock.Now()
	for range 3 {
		tp.Advance(time.Minute)
	}
	got := rec.all()
	if len(got) != 3 {
		t.Fatalf("%d runs, want 3: %+v", len(got), got)
	}
	first := start.Truncate(time.Minute).Add(time.Minute)
	for i, r := range got {
		if want := first.Add(time.Duration(i) * time.Minute); r.Outcome != scheduler.Ran || !r.Tick.Equal(want) {
			t.Errorf("run %d: %s at %v, want ran at %v (%v)", i, r.Outcome, r.Tick, want, r.Err)
		}
	}
}

// One long jump runs every tick on the way, none missed.
func TestAnHourIsSixtyRuns(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	rec := startEveryMinute(t, tp, noop)
	tp.Advance(time.Hour)
	got := rec.all()
	if len(got) != 60 {
		t.Fatalf("%d runs, want 60", len(got))
	}
	for _, r := range got {
		if r.Outcome != scheduler.Ran {
			t.Fatalf("%s at %v: %v", r.Outcome, r.Tick, r.Err)
		}
	}
}

// Advance returns only after the handler has returned, so its effects are
// visible without waiting.
func TestAdvanceWaitsForTheHandler(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	var mu sync.Mutex
	var tokens []uint64
	startEveryMinute(t, tp, func(c *ctx.Context) error {
		run, ok := scheduler.RunFrom(c)
		if !ok {
			t.Error("no run in the handler's ctx")
			return nil
		}
		// Real work takes real time: the handler takes another lease.
		if err := c.Ports.Locks.WithLease(c, "report:render", locks.Options{TTL: time.Minute}, func(context.Context, locks.Lease) error {
			return nil
		}); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		tokens = append(tokens, run.Lease.FencingToken())
		return nil
	})
	tp.Advance(2 * time.Minute)
	mu.Lock()
	defer mu.Unlock()
	if len(tokens) != 2 || tokens[1] <= tokens[0] {
		t.Fatalf("fencing tokens %v, want two, rising", tokens)
	}
}

func TestDefaultStartIsBetweenTicks(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	if got, want := tp.Clock.Now(), beignettest.DefaultStart(); !got.Equal(want) {
		t.Fatalf("clock starts at %v, want %v", got, want)
	}
	rec := startEveryMinute(t, tp, noop)
	tp.Advance(0)
	if got := rec.all(); len(got) != 0 {
		t.Fatalf("ran at start: %+v", got)
	}
}

func TestStartAt(t *testing.T) {
	at := time.Date(2030, 5, 6, 6, 59, 30, 0, time.UTC)
	tp := beignettest.CreateTestPorts(t, beignettest.StartAt(at))
	if !tp.Clock.Now().Equal(at) {
		t.Fatalf("clock at %v, want %v", tp.Clock.Now(), at)
	}
	rec := startEveryMinute(t, tp, noop)
	tp.Advance(30 * time.Second)
	if got := rec.all(); len(got) != 1 || !got[0].Tick.Equal(at.Add(30*time.Second)) {
		t.Fatalf("runs %+v, want one at 07:00", got)
	}
}

// Without schedules, Advance only moves the clock, by any amount.
func TestAdvanceEdges(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	start := tp.Clock.Now()
	tp.Advance(0)
	tp.Advance(math.MaxInt64)
	if got := tp.Clock.Since(start); got != math.MaxInt64 {
		t.Fatalf("moved %v", got)
	}
}

// A task (an outbox drain is one) passes once per interval on the way.
func TestAdvanceStepsThroughTasks(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	s := scheduler.New(tp.Ports)
	var mu sync.Mutex
	passes := 0
	if err := s.AddTask(scheduler.Task{Name: "drain", Key: "outbox:test", Interval: time.Second,
		Run: func(context.Context, locks.Lease) error {
			mu.Lock()
			defer mu.Unlock()
			passes++
			return nil
		}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	tp.Advance(10 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	if passes != 10 {
		t.Fatalf("%d passes in 10 s, want 10", passes)
	}
}

// A jittered run sleeps on the clock too: Advance steps through its delay.
func TestAdvanceStepsThroughJitter(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	rec := &reports{}
	s := scheduler.New(tp.Ports, scheduler.WithHook(rec))
	if err := s.Add("jittered", "* * * * *", noop, scheduler.Jitter(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	tp.Advance(3*time.Minute + 30*time.Second)
	if got := rec.all(); len(got) != 3 {
		t.Fatalf("%d runs, want 3: %+v", len(got), got)
	}
}

// A whole app assembled by beignet.New runs on the test's clock, and
// Advance waits for its schedules.
func TestAppOnTestPorts(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	var mu sync.Mutex
	var ticks []time.Time
	app := beignet.New(
		scheduler.Schedule("digest", "* * * * *", func(c *ctx.Context) error {
			run, _ := scheduler.RunFrom(c)
			mu.Lock()
			defer mu.Unlock()
			ticks = append(ticks, run.Tick)
			return nil
		}),
		tp.App(),
	)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
	tp.Advance(2 * time.Minute)
	mu.Lock()
	defer mu.Unlock()
	first := beignettest.DefaultStart().Truncate(time.Minute).Add(time.Minute)
	if len(ticks) != 2 || !ticks[0].Equal(first) || !ticks[1].Equal(first.Add(time.Minute)) {
		t.Fatalf("ticks %v, want %v and the minute after", ticks, first)
	}
}

// Two goroutines advancing at once take turns: the clock moves by the sum,
// and each tick runs once.
func TestConcurrentAdvances(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	rec := startEveryMinute(t, tp, noop)
	start := tp.Clock.Now()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tp.Advance(30 * time.Second)
		}()
	}
	wg.Wait()
	if got := tp.Clock.Since(start); got != time.Minute {
		t.Fatalf("clock moved %v, want 1m", got)
	}
	if got := rec.all(); len(got) != 1 || got[0].Outcome != scheduler.Ran {
		t.Fatalf("runs %+v, want one ran", got)
	}
}

// A handler that ends its goroutine with runtime.Goexit still ends its run:
// Advance returns instead of waiting for it.
func TestAdvanceSurvivesGoexit(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	rec := startEveryMinute(t, tp, func(*ctx.Context) error {
		runtime.Goexit()
		return nil
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tp.Advance(2 * time.Minute)
	}()
	select {
	case <-done:
	case <-time.After(9 * time.Second): // below Advance's own 10 s patience
		t.Fatal("Advance still waiting for a run whose handler called Goexit")
	}
	if got := rec.all(); len(got) != 2 {
		t.Fatalf("%d reports, want 2: %+v", len(got), got)
	}
}

// A commit's wake-up counts as work from the moment it is sent until the
// drain has taken it up, so even Advance(0) returns only once the drain has
// published the message, every time; so does Advance by the drain's
// interval.
func TestAdvanceAfterACommitPublishesIt(t *testing.T) {
	for _, step := range []time.Duration{0, time.Millisecond, outbox.DefaultInterval} {
		t.Run(step.String(), func(t *testing.T) { advanceAfterCommits(t, step) })
	}
}

func advanceAfterCommits(t *testing.T, step time.Duration) {
	tp := beignettest.CreateTestPorts(t)
	store := outbox.NewMemory(outbox.MemoryClock(tp.Clock))
	var published atomic.Int64
	d, err := outbox.NewDrainer("events", store, outbox.PublisherFunc(func(context.Context, outbox.Message) error {
		published.Add(1)
		return nil
	}), tp.Clock, tp.Ports.Logger)
	if err != nil {
		t.Fatal(err)
	}
	wake, unsubscribe := store.Subscribe()
	t.Cleanup(unsubscribe)
	s := scheduler.New(tp.Ports)
	if err := s.AddTask(d.Task(wake)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	for i := range int64(5) {
		tx := store.Begin()
		if err := store.Enqueue(t.Context(), tx, outbox.Message{Topic: "report.ready"}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		tp.Advance(step)
		if got := published.Load(); got != i+1 {
			t.Fatalf("after commit %d and Advance(%v): %d published", i+1, step, got)
		}
	}
}

// A handler that blocks on its ctx is ended by its schedule's Timeout when
// the Advance reaches it: Advance steps to the timeout's timer, waits for
// the run to end, and Stop returns at once afterwards.
func TestAdvanceStepsToARunsTimeout(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	rec := &reports{}
	s := scheduler.New(tp.Ports, scheduler.WithHook(rec))
	if err := s.Add("blocks", "* * * * *", func(c *ctx.Context) error {
		<-c.Done()
		return context.Cause(c)
	}, scheduler.Timeout(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	tp.Advance(time.Minute) // the tick at 00:01:00 starts; its timeout is at 00:01:30
	if got := rec.all(); len(got) != 0 {
		t.Fatalf("reports before the timeout: %+v", got)
	}
	tp.Advance(30 * time.Second)
	got := rec.all()
	if len(got) != 1 || got[0].Outcome != scheduler.TimedOut || got[0].Duration != 30*time.Second ||
		!errors.Is(got[0].Err, scheduler.ErrTimeout) {
		t.Fatalf("reports %+v, want one timed out after 30s", got)
	}
	if err := s.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// A handler waiting on the clock itself is blocked on the clock: Advance
// returns while it waits, and the Advance that reaches the end of its wait
// moves it on, stepping through its leases' renewals on the way.
func TestAdvanceWithAHandlerWaitingOnTheClock(t *testing.T) {
	for name, wait := range map[string]func(c *ctx.Context) error{
		"Sleep": func(c *ctx.Context) error { c.Ports.Clock.Sleep(10 * time.Minute); return nil },
		"After": func(c *ctx.Context) error {
			select {
			case <-c.Ports.Clock.After(10 * time.Minute):
				return nil
			case <-c.Done():
				return context.Cause(c)
			}
		},
		"lock Wait": func(c *ctx.Context) error {
			// The test holds the key until 00:11:00; the handler waits
			// for it to lapse.
			return c.Ports.Locks.WithLease(c, "report:render", locks.Options{TTL: time.Minute, Wait: locks.MaxWait},
				func(context.Context, locks.Lease) error { return nil })
		},
	} {
		t.Run(name, func(t *testing.T) {
			tp := beignettest.CreateTestPorts(t)
			held, err := tp.Locks.Acquire(t.Context(), "report:render", locks.Options{TTL: 11*time.Minute - 7750*time.Millisecond})
			if err != nil || !held.Acquired {
				t.Fatal(held, err)
			}
			var woke atomic.Int64
			rec := &reports{}
			s := scheduler.New(tp.Ports, scheduler.WithHook(rec))
			tick := beignettest.DefaultStart().Truncate(time.Minute).Add(time.Minute)
			if err := s.Add("waits", "* * * * *", func(c *ctx.Context) error {
				if run, _ := scheduler.RunFrom(c); !run.Tick.Equal(tick) {
					return nil // only the first run waits, so Stop need not wait
				}
				if err := wait(c); err != nil {
					return err
				}
				woke.Store(c.Ports.Clock.Now().Unix())
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Stop(context.Background()) })

			tp.Advance(time.Minute)
			if got := rec.all(); len(got) != 0 || woke.Load() != 0 {
				t.Fatalf("the run ended before its wait: %+v", got)
			}
			tp.Advance(10 * time.Minute)
			if got, want := woke.Load(), tick.Add(10*time.Minute).Unix(); got != want {
				t.Fatalf("woke at %v, want %v", time.Unix(got, 0).UTC(), time.Unix(want, 0).UTC())
			}
			// The ticks while it waited were skipped: it held the schedule.
			var first *scheduler.Report
			for _, r := range rec.all() {
				if r.Tick.Equal(tick) {
					first = &r
				}
			}
			if first == nil || first.Outcome != scheduler.Ran || first.Duration != 10*time.Minute {
				t.Fatalf("the run of %v: %+v, want ran for 10m", tick, first)
			}
		})
	}
}

// A run still asleep on Ports.Clock when the test ends does not keep the
// docs' Cleanup, Stop(context.Background()), waiting until go test's
// timeout: nothing moves the fake clock after the test, so Sleep returns
// when the test ends, and the handler with it.
func TestStopInCleanupWithAHandlerAsleep(t *testing.T) {
	var woke atomic.Bool
	t.Run("test", func(t *testing.T) {
		tp := beignettest.CreateTestPorts(t)
		s := scheduler.New(tp.Ports)
		if err := s.Add("sleepy", "* * * * *", func(c *ctx.Context) error {
			c.Ports.Clock.Sleep(time.Hour)
			woke.Store(true)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stopped := make(chan error, 1)
			go func() { stopped <- s.Stop(context.Background()) }()
			select {
			case err := <-stopped:
				if err != nil {
					t.Error(err)
				}
			case <-time.After(10 * time.Second): // a bound, not a synchronisation
				t.Error("Stop still waits for the handler asleep on the fake clock")
			}
		})
		tp.Advance(time.Minute) // the 00:01:00 run falls asleep until 01:01:00
		if woke.Load() {
			t.Fatal("the handler woke before its hour")
		}
	})
	if !woke.Load() {
		t.Fatal("the handler is still asleep after the test ended")
	}
}
