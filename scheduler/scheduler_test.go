package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/testports"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"

	"github.com/beignet-go/beignet/internal/testserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testserver.Main(m)) }

// start starts s and stops it when the test ends, before zaptest's logger
// goes away.
func start(t *testing.T, s *scheduler.Scheduler) {
	t.Helper()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
}

func blockUntil(t *testing.T, c *clockwork.FakeClock, n int) {
	t.Helper()
	bctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.BlockUntilContext(bctx, n); err != nil {
		t.Fatalf("waiting for %d timers: %v", n, err)
	}
}

// A 07:00 schedule runs exactly once per day when the fake clock is
// advanced a day at a time.
func TestDailyExactlyOncePerDay(t *testing.T) {
	tp := testports.CreateTestPorts(t)
	tp.Clock.Advance(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Sub(tp.Clock.Now()))
	rec := newRecorder()
	var runs atomic.Int64
	var gotTick time.Time
	s := scheduler.New(tp.Ports, scheduler.WithLocation(time.UTC), scheduler.WithHook(rec))
	err := s.Add("daily-report", "0 7 * * *", func(c *ctx.Context) error {
		runs.Add(1)
		r, ok := scheduler.RunFrom(c)
		if !ok || r.Lease == nil || r.Lease.FencingToken() == 0 {
			t.Errorf("RunFrom = %+v, %v", r, ok)
		}
		gotTick = r.Tick
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	start(t, s)

	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(6*time.Hour + 59*time.Minute)
	blockUntil(t, tp.Clock, 1)
	if runs.Load() != 0 {
		t.Fatalf("ran before 07:00")
	}
	tp.Clock.Advance(time.Minute)
	rec.waitFor(t, "the 07:00 run", func(r []scheduler.Report) bool { return count(r, scheduler.Ran) == 1 })
	if want := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC); !gotTick.Equal(want) {
		t.Errorf("Run.Tick = %v, want %v", gotTick, want)
	}

	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(12 * time.Hour)
	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(12 * time.Hour)
	rec.waitFor(t, "the next day's run", func(r []scheduler.Report) bool { return count(r, scheduler.Ran) == 2 })
	if n := runs.Load(); n != 2 {
		t.Fatalf("%d runs over two days, want 2", n)
	}
	if c := s.Counts("daily-report"); c[scheduler.Ran] != 2 || len(c) != 1 {
		t.Errorf("Counts = %v", c)
	}
}

func TestAddRejectsBadInput(t *testing.T) {
	tp := newPorts(t)
	s := scheduler.New(tp.Ports)
	ok := func(*ctx.Context) error { return nil }
	if err := s.Add("taken", "@hourly", ok); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, schedName, spec string
		h                     scheduler.Handler
		opts                  []scheduler.ScheduleOption
		want                  error
	}{
		{"empty name", "", "@hourly", ok, nil, scheduler.ErrInvalidName},
		{"control char in name", "a\nb", "@hourly", ok, nil, scheduler.ErrInvalidName},
		{"duplicate", "taken", "@daily", ok, nil, scheduler.ErrDuplicateName},
		{"nil handler", "h", "@hourly", nil, nil, scheduler.ErrNilHandler},
		{"garbage spec", "g", "every tuesday", ok, nil, scheduler.ErrInvalidSpec},
		{"empty spec", "e", "", ok, nil, scheduler.ErrInvalidSpec},
		{"out of range", "r", "61 * * * *", ok, nil, scheduler.ErrInvalidSpec},
		{"bad zone", "z", "CRON_TZ=Mars/Olympus 0 7 * * *", ok, nil, scheduler.ErrInvalidSpec},
		{"zone without spec", "zz", "TZ=UTC", ok, nil, scheduler.ErrInvalidSpec},
		{"never fires", "n", "0 0 30 2 *", ok, nil, scheduler.ErrInvalidSpec},
		{"negative ttl", "t", "@hourly", ok, []scheduler.ScheduleOption{scheduler.LeaseTTL(-1)}, scheduler.ErrInvalidOption},
		{"ttl over locks.MaxTTL", "tm", "@hourly", ok, []scheduler.ScheduleOption{scheduler.LeaseTTL(locks.MaxTTL + 1)}, locks.ErrInvalidTTL},
		{"ttl of MaxInt64", "ti", "@hourly", ok, []scheduler.ScheduleOption{scheduler.LeaseTTL(math.MaxInt64)}, scheduler.ErrInvalidOption},
		{"jitter over interval", "j", "@every 10s", ok, []scheduler.ScheduleOption{scheduler.Jitter(time.Minute)}, scheduler.ErrInvalidOption},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Add(c.schedName, c.spec, c.h, c.opts...)
			if !errors.Is(err, c.want) {
				t.Fatalf("Add(%q, %q) = %v, want %v", c.schedName, c.spec, err, c.want)
			}
			if c.schedName != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", c.schedName)) {
				t.Errorf("error %q does not name the schedule", err)
			}
		})
	}
}

func TestSpecForms(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		spec string
		loc  *time.Location
		want time.Time
	}{
		{"0 7 * * *", time.UTC, time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)},
		{"30 0 7 * * *", time.UTC, time.Date(2026, 12, 1, 7, 0, 30, 0, time.UTC)},
		{"@daily", time.UTC, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
		{"@every 30s", time.UTC, from.Add(30 * time.Second)},
		{"0 7 * * *", ny, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)},
		{"CRON_TZ=America/New_York 0 7 * * *", time.UTC, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)},
		{"TZ=America/New_York 0 7 * * *", time.UTC, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		s, err := scheduler.ParseSpec(c.spec, c.loc)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", c.spec, err)
			continue
		}
		if got := s.Next(from); !got.Equal(c.want) {
			t.Errorf("ParseSpec(%q, %v).Next = %v, want %v", c.spec, c.loc, got, c.want)
		}
	}
	// @every ticks are aligned, so instances started apart agree.
	s, _ := scheduler.ParseSpec("@every 30s", time.UTC)
	if a, b := s.Next(from.Add(3*time.Second)), s.Next(from.Add(17*time.Second)); !a.Equal(b) {
		t.Errorf("@every 30s from two start times: %v vs %v", a, b)
	}
}

func TestPanicTimeoutAndErrorsAreReported(t *testing.T) {
	tp := newPorts(t)
	rec := newRecorder()
	s := scheduler.New(tp.Ports, scheduler.WithHook(rec))
	boom := errors.New("boom")
	mustAdd(t, s, "panics", "@every 1m", func(*ctx.Context) error { panic("kaboom") })
	mustAdd(t, s, "fails", "@every 1m", func(*ctx.Context) error { return boom })
	testDone := make(chan struct{})
	mustAdd(t, s, "slow", "@every 1m", func(c *ctx.Context) error {
		select {
		case <-c.Done():
		case <-testDone: // a later tick's run, still going at the end
		}
		return c.Err()
	}, scheduler.Timeout(10*time.Second))
	start(t, s)
	t.Cleanup(func() { close(testDone) }) // runs before start's Stop
	blockUntil(t, tp.Clock, 3)
	tp.Clock.Advance(30 * time.Second)
	rec.waitFor(t, "panic and error reports", func(r []scheduler.Report) bool {
		return count(r, scheduler.Panicked) == 1 && count(r, scheduler.Failed) == 1
	})
	// The slow run holds a timeout timer and its lease's renewal timer,
	// besides the three schedule loops.
	blockUntil(t, tp.Clock, 5)
	tp.Clock.Advance(10 * time.Second)
	reps := rec.waitFor(t, "the timeout", func(r []scheduler.Report) bool { return count(r, scheduler.TimedOut) == 1 })
	for _, r := range reps {
		if r.Err == nil {
			t.Errorf("%s report without an error: %+v", r.Outcome, r)
		}
		if r.Outcome == scheduler.Failed && !errors.Is(r.Err, boom) {
			t.Errorf("failed report does not wrap the handler's error: %v", r.Err)
		}
	}
	// A panicking run released its lease: the next tick runs again.
	blockUntil(t, tp.Clock, 3)
	tp.Clock.Advance(50 * time.Second)
	rec.waitFor(t, "the second panic", func(r []scheduler.Report) bool { return count(r, scheduler.Panicked) == 2 })
}

func TestLeaseLossCancelsHandler(t *testing.T) {
	tp := newPorts(t)
	rec := newRecorder()
	s := scheduler.New(tp.Ports, scheduler.WithHook(rec))
	running := make(chan struct{})
	var cause error
	mustAdd(t, s, "victim", "@every 1m", func(c *ctx.Context) error {
		close(running)
		<-c.Done()
		cause = context.Cause(c)
		return nil
	}, scheduler.LeaseTTL(30*time.Second))
	start(t, s)
	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(30 * time.Second)
	<-running
	blockUntil(t, tp.Clock, 2) // the loop's timer and the renewal timer
	// The lease is taken away: its TTL passes without a renewal getting
	// through (the clock jumps), and someone else takes the key.
	tp.Clock.Advance(31 * time.Second)
	rec.waitFor(t, "lease-lost", func(r []scheduler.Report) bool { return count(r, scheduler.LeaseLost) == 1 })
	if !errors.Is(cause, locks.ErrLeaseLost) {
		t.Fatalf("handler ctx cause = %v, want ErrLeaseLost", cause)
	}
}

func TestOverlapSkipAndWait(t *testing.T) {
	for _, tc := range []struct {
		policy scheduler.Overlap
		want   scheduler.Outcome
	}{{scheduler.OverlapSkip, scheduler.SkippedHeld}, {scheduler.OverlapWait, scheduler.Ran}} {
		t.Run(string(tc.want), func(t *testing.T) {
			tp := newPorts(t)
			rec := newRecorder()
			s := scheduler.New(tp.Ports, scheduler.WithHook(rec))
			release := make(chan struct{})
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			var calls atomic.Int64
			mustAdd(t, s, "long", "@every 1m", func(c *ctx.Context) error {
				if calls.Add(1) == 1 {
					<-release // the first run outlasts the next tick
				}
				return nil
			}, scheduler.WithOverlap(tc.policy), scheduler.LeaseTTL(5*time.Minute))
			start(t, s)
			t.Cleanup(free) // before Stop, even if the test fails
			blockUntil(t, tp.Clock, 1)
			tp.Clock.Advance(30 * time.Second)
			blockUntil(t, tp.Clock, 3) // loop timer + the first run's claim and lease renewals
			tp.Clock.Advance(time.Minute)
			// ... + the second run's wait for the claim
			blockUntil(t, tp.Clock, 4)
			if tc.policy == scheduler.OverlapSkip {
				// Skip still gives a run on a lagging clock the skew
				// window (twice the 2 s tolerance) to finish first.
				tp.Clock.Advance(4 * time.Second)
				rec.waitFor(t, "skip", func(r []scheduler.Report) bool { return count(r, scheduler.SkippedHeld) == 1 })
				free()
				rec.waitFor(t, "first run", func(r []scheduler.Report) bool { return count(r, scheduler.Ran) == 1 })
				return
			}
			free()
			reps := rec.waitFor(t, "both runs", func(r []scheduler.Report) bool { return count(r, scheduler.Ran) == 2 })
			// The waiter may report before the run it waited for.
			a, b := reps[0].Tick, reps[1].Tick
			if d := b.Sub(a); d != time.Minute && d != -time.Minute {
				t.Errorf("runs have ticks %v and %v, want consecutive minutes", a, b)
			}
		})
	}
}

func TestGracefulStop(t *testing.T) {
	tp := newPorts(t)
	s := scheduler.New(tp.Ports)
	running := make(chan struct{})
	finish := make(chan struct{})
	var cause atomic.Value
	mustAdd(t, s, "slow", "@every 1m", func(c *ctx.Context) error {
		close(running)
		select {
		case <-finish:
		case <-c.Done():
			cause.Store(context.Cause(c))
		}
		return nil
	})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(30 * time.Second)
	<-running

	// A deadline that has passed: Stop cancels the handler and returns.
	stopCtx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Stop(stopCtx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop past its deadline = %v, want context.Canceled", err)
	}
	if c, _ := cause.Load().(error); !errors.Is(c, scheduler.ErrStopped) {
		t.Fatalf("handler ctx cause = %v, want ErrStopped", c)
	}
	if _, held := tp.Locks.Leases()["schedule:slow"]; held {
		t.Fatal("lease still held after Stop")
	}
}

func TestStopWaitsForRunningHandler(t *testing.T) {
	tp := newPorts(t)
	s := scheduler.New(tp.Ports)
	running, finish := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	mustAdd(t, s, "slow", "@every 1m", func(c *ctx.Context) error {
		close(running)
		<-finish
		finished.Store(true)
		return nil
	})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(30 * time.Second)
	<-running
	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(context.Background()) }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while the handler was running", err)
	default:
	}
	close(finish)
	if err := <-stopped; err != nil || !finished.Load() {
		t.Fatalf("Stop = %v, finished %v", err, finished.Load())
	}
}

// newPorts returns test ports whose fake clock reads 00:00:30 UTC: advancing
// by 30s lands exactly on the next minute's tick, and each minute after on
// the following one.
func newPorts(t *testing.T) *testports.TestPorts {
	tp := testports.CreateTestPorts(t)
	tp.Clock.Advance(time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC).Sub(tp.Clock.Now()))
	return tp
}

func mustAdd(t *testing.T, s *scheduler.Scheduler, name, spec string, h scheduler.Handler, opts ...scheduler.ScheduleOption) {
	t.Helper()
	if err := s.Add(name, spec, h, opts...); err != nil {
		t.Fatal(err)
	}
}

// A name is checked against the longest key derived from it (a tick's
// claim), not just the schedule's lease key: a name of MaxNameBytes runs,
// one byte more is refused with an error naming the limit.
func TestNameLengthCoversTheClaimKey(t *testing.T) {
	tp := newPorts(t)
	rec := newRecorder()
	s := scheduler.New(tp.Ports, scheduler.WithHook(rec))
	ok := func(*ctx.Context) error { return nil }
	long := strings.Repeat("n", scheduler.MaxNameBytes+1)
	err := s.Add(long, "@every 1m", ok)
	if !errors.Is(err, scheduler.ErrInvalidName) || !strings.Contains(err.Error(), fmt.Sprint(scheduler.MaxNameBytes)) {
		t.Fatalf("Add(%d-byte name) = %v, want ErrInvalidName naming the %d-byte limit", len(long), err, scheduler.MaxNameBytes)
	}
	mustAdd(t, s, long[1:], "@every 1m", ok)
	start(t, s)
	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(30 * time.Second)
	reps := rec.waitFor(t, "the run", func(r []scheduler.Report) bool { return len(r) == 1 })
	if reps[0].Outcome != scheduler.Ran {
		t.Fatalf("a %d-byte name's tick: %+v", scheduler.MaxNameBytes, reps[0])
	}
}

// RunFrom finds a run only where the scheduler, or WithRun with a lease,
// put one: a handler that checks ok can use run.Lease.
func TestRunFromAndWithRun(t *testing.T) {
	//lint:ignore SA1012 a nil ctx is the edge under test: no run, no panic
	if _, ok := scheduler.RunFrom(nil); ok {
		t.Fatal("RunFrom(nil) reported a run")
	}
	if _, ok := scheduler.RunFrom(context.Background()); ok {
		t.Fatal("a run outside the scheduler")
	}
	if _, ok := scheduler.RunFrom(scheduler.WithRun(context.Background(), scheduler.Run{Schedule: "x"})); ok {
		t.Fatal("a run without a lease was reported")
	}
	res, err := locks.NewMemory().Acquire(context.Background(), "schedule:x", locks.Options{TTL: time.Minute})
	if err != nil || !res.Acquired {
		t.Fatal(res, err)
	}
	want := scheduler.Run{Schedule: "x", Tick: time.Unix(60, 0), Lease: res.Lease, Instance: "test"}
	got, ok := scheduler.RunFrom(scheduler.WithRun(context.Background(), want))
	if !ok || got != want {
		t.Fatalf("RunFrom = %+v, %v; want %+v", got, ok, want)
	}
}

// Add reads time only from Ports.Clock, also when it checks a spec: at a
// fake 2097-03-01, Feb 29 is seven years away (2100 is no leap year), past
// the five years cron looks ahead, so the spec is refused; and from a fake
// 2027-03-15 the next eight months have no February, so a monthly
// schedule's interval is 30 days and a 29-day jitter fits.
func TestSpecChecksUseThePortsClock(t *testing.T) {
	ok := func(*ctx.Context) error { return nil }
	at := func(t *testing.T, when time.Time) *scheduler.Scheduler {
		tp := testports.CreateTestPorts(t)
		tp.Clock.Advance(when.Sub(tp.Clock.Now()))
		return scheduler.New(tp.Ports, scheduler.WithLocation(time.UTC))
	}
	s := at(t, time.Date(2097, 3, 1, 0, 0, 0, 0, time.UTC))
	if err := s.Add("leap", "0 0 29 2 *", ok); !errors.Is(err, scheduler.ErrInvalidSpec) {
		t.Errorf("Add(Feb 29) at 2097-03-01 = %v, want ErrInvalidSpec", err)
	}
	s = at(t, time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC))
	if err := s.Add("monthly", "0 0 1 * *", ok, scheduler.Jitter(29*24*time.Hour)); err != nil {
		t.Errorf("Add(monthly, 29-day jitter) at 2027-03-15 = %v, want accepted", err)
	}
	if _, err := scheduler.ParseSpecAt("0 0 29 2 *", time.UTC, time.Date(2097, 3, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, scheduler.ErrInvalidSpec) {
		t.Errorf("ParseSpecAt(Feb 29, 2097-03-01) = %v, want ErrInvalidSpec", err)
	}
	if _, err := scheduler.ParseSpecAt("0 0 29 2 *", time.UTC, time.Date(2103, 3, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("ParseSpecAt(Feb 29, 2103-03-01) = %v, want accepted (2104-02-29)", err)
	}
}
