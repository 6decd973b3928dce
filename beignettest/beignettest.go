// Package beignettest gives an app's tests the ports a handler expects,
// wired to in-memory locks on a fake clock, so time-based logic is tested by
// advancing the clock rather than by sleeping.
//
// The test that a schedule runs once a minute:
//
//	tp := beignettest.CreateTestPorts(t)
//	s := scheduler.New(tp.Ports)
//	_ = s.Add("digest", "* * * * *", SendDigest)
//	_ = s.Start()
//	t.Cleanup(func() { _ = s.Stop(context.Background()) })
//	tp.Advance(3 * time.Minute) // three runs, finished when Advance returns
package beignettest

import (
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/wakes"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
)

// TestPorts are ports for one test, with typed access to the fakes behind
// them.
type TestPorts struct {
	// Ports is what handlers receive.
	Ports *ctx.Ports
	// Locks is Ports.Locks as its concrete type, for Leases().
	Locks *locks.Memory
	// Ledger is Ports.Ledger as its concrete type: the run history and
	// schedule state of every scheduler on these ports.
	Ledger *ledger.Memory
	// Clock is Ports.Clock as a fake clock. Prefer Advance, which also
	// waits for the work that moving the clock made due.
	Clock *clockwork.FakeClock

	t         testing.TB
	work      *work
	advancing sync.Mutex // one Advance at a time: steps must not interleave
}

var _ ctx.ChoreTracker = (*work)(nil)

// Option configures CreateTestPorts.
type Option func(*config)

type config struct {
	start time.Time
}

// DefaultStart returns the instant the fake clock starts at unless StartAt
// says otherwise: Wednesday 2026-01-07 00:00:07.75 UTC. It is 7.75 s past a
// minute boundary, clear of the skew tolerance of every tick of a spec of a
// second or more (every second, every 2, 3, 5, 10 or 15 seconds, every
// minute, hour or day), so no schedule runs at Start and an every-minute
// schedule's first tick is 00:01:00.
func DefaultStart() time.Time {
	return time.Date(2026, time.January, 7, 0, 0, 7, 750_000_000, time.UTC)
}

// StartAt starts the fake clock at t instead of DefaultStart. A clock
// started on a tick, or within the scheduler's skew tolerance after one,
// runs that tick at Start.
func StartAt(t time.Time) Option { return func(c *config) { c.start = t } }

// CreateTestPorts returns ports on in-memory locks and a fake clock, logging
// through t at Info and above. Stop every goroutine that logs before the test ends: zaptest
// fails a test that is logged to after it finished.
func CreateTestPorts(t testing.TB, opts ...Option) *TestPorts {
	t.Helper()
	c := config{start: DefaultStart()}
	for _, o := range opts {
		o(&c)
	}
	if c.start.IsZero() {
		t.Fatal("beignettest: StartAt(zero time): pass the instant the test starts at")
	}
	clock := clockwork.NewFakeClockAt(c.start)
	w := newWork(clock)
	// Everything on the ports makes its timers through tracked, so that
	// Advance stops at each.
	tracked := &trackedClock{FakeClock: clock, work: w, ended: t.Context().Done()}
	// A memory outbox store on either clock counts its wake-ups with w.
	t.Cleanup(wakes.Register(clock, w))
	t.Cleanup(wakes.Register(tracked, w))
	mem := locks.NewMemory(locks.WithClock(tracked))
	led := ledger.NewMemory(ledger.WithClock(tracked))
	return &TestPorts{
		Ports: &ctx.Ports{
			Locks:  mem,
			Ledger: led,
			Clock:  tracked,
			Logger: zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)),
			Work:   w,
		},
		Locks:  mem,
		Ledger: led,
		Clock:  clock,
		t:      t,
		work:   w,
	}
}

// Context returns a handler context over these ports for t, cancelled when
// the test ends.
func (p *TestPorts) Context(t testing.TB) *ctx.Context {
	return ctx.New(t.Context(), p.Ports)
}

// App returns fx options that run an app assembled by beignet.New on these
// ports: on Clock, logging through the test, with Advance waiting for the
// app's schedules and drains. Add it after the app's providers:
//
//	app := beignet.New(append(Providers(), tp.App())...)
//
// The app's locks are its own: the in-memory default on Clock unless a
// provider contributes others.
func (p *TestPorts) App() fx.Option {
	return fx.Options(
		fx.Decorate(func(clockwork.Clock) clockwork.Clock { return p.Ports.Clock }),
		fx.Decorate(func(*zap.Logger) *zap.Logger { return p.Ports.Logger }),
		fx.Provide(func() ctx.Tracker { return p.work }),
	)
}

// maxSteps bounds the wake-ups one Advance steps through, so that a jump
// of years over a busy schedule fails clearly instead of running for hours.
const maxSteps = 1_000_000

// estimateEvery is how often (in wake-ups) Advance projects, from the span
// covered so far, how many wake-ups the whole span needs.
const estimateEvery = 1000

// patience is how long, in real time, Advance waits for the work due at
// one step before it fails the test naming what is still in flight.
const patience = 10 * time.Second

// Advance moves the fake clock forward by d, stepping through every wake-up
// due on the way: each schedule's tick, each task's and drain's interval,
// each jitter, and every timer made on Ports.Clock (a run's Timeout, a
// lease's renewal, a handler's Sleep or After, a lock's Wait). At each step
// it waits until the work that step made due (schedule runs, task passes,
// drains, a commit's wake-up) has finished, or is blocked: every goroutine
// of the test binary waits on something only the clock (or the outside
// world) can bring. It returns once all the work due by the new time has
// finished or is blocked, so the test can assert on its effects at once.
//
// A handler blocked on its ctx is ended by its schedule's Timeout when
// Advance reaches it. A handler waiting on the clock keeps its run in flight
// and Advance returns; the Advance that reaches the end of its wait moves it
// on. Timers made on Clock directly (not Ports.Clock) fire, but Advance does
// not stop at them. Ports.Clock.Sleep also returns when the test ends, so a
// run asleep then does not keep a Stop in Cleanup waiting; a run waiting on
// its ctx ends when a Stop cancels it, as Stop(t.Context()) does at once. Nor does it stop at a scheduler's heartbeat (every
// scheduler.HeartbeatInterval): it passes it, and waits for the heartbeat
// it made due, so a day's Advance over a daily schedule is one step, and
// the scheduler is still listed as live at its end.
//
// d may be 0 (run what is due now, such as a commit's drain) up to
// math.MaxInt64; a negative d, one past the last representable time, or
// one that would take more than a million wake-ups fails the test. Call it from the test's goroutine; concurrent calls take
// turns. Work that keeps running (a goroutine that never waits) fails the
// test after 10 s of real time, naming it.
func (p *TestPorts) Advance(d time.Duration) {
	p.t.Helper()
	p.advancing.Lock()
	defer p.advancing.Unlock()
	if d < 0 {
		p.t.Fatalf("beignettest: Advance(%v): the clock only moves forward", d)
	}
	now := p.Clock.Now()
	end := now.Add(d)
	if end.Before(now) {
		p.t.Fatalf("beignettest: Advance(%v): beyond the last representable time", d)
	}
	for steps := 0; ; steps++ {
		if err := p.work.waitIdle(patience); err != nil {
			p.t.Fatalf("beignettest: Advance(%v) at %v: %v", d, p.Clock.Now(), err)
		}
		at, ok := p.work.next(end)
		if !ok {
			break
		}
		if steps == maxSteps {
			p.t.Fatalf("beignettest: Advance(%v): more than %d wake-ups on the way; advance less at a time", d, maxSteps)
		}
		if steps > 0 && steps%estimateEvery == 0 {
			// Fail at once, not after an hour of stepping, when the
			// wake-ups so far say the rest will not fit.
			if covered := at.Sub(now); covered > 0 && float64(steps)*float64(d)/float64(covered) > maxSteps {
				p.t.Fatalf("beignettest: Advance(%v): about %.3g wake-ups on the way (%d in the first %v), more than %d; advance less at a time",
					d, float64(steps)*float64(d)/float64(covered), steps, covered, maxSteps)
			}
		}
		p.work.wake(at)
		p.Clock.Advance(max(at.Sub(p.Clock.Now()), 0))
	}
	// Nothing Advance steps to is left by end, but chores (a scheduler's
	// heartbeat) may be: they count as woken too.
	p.work.wake(end)
	p.Clock.Advance(max(end.Sub(p.Clock.Now()), 0))
	if err := p.work.waitIdle(patience); err != nil {
		p.t.Fatalf("beignettest: Advance(%v) at %v: %v", d, p.Clock.Now(), err)
	}
}
