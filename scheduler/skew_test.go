package scheduler_test

import (
	"errors"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"
)

type instance struct {
	offset, lateBy time.Duration
}

// fleet runs one scheduler per instance on a shared memory backend. Each
// instance sees the base fake clock shifted by its offset, and its timers
// fire lateBy after they should.
type fleet struct {
	base      *clockwork.FakeClock
	watcher   *claimWatcher
	rec       *recorder
	instances []instance
	scheds    []*scheduler.Scheduler
}

func newFleet(t *testing.T, at time.Time, spec string, instances []instance) *fleet {
	base := clockwork.NewFakeClockAt(at)
	f := &fleet{
		base:      base,
		watcher:   newClaimWatcher(ledger.NewMemory(ledger.WithClock(base))),
		rec:       newRecorder(),
		instances: instances,
	}
	log := zaptest.NewLogger(t)
	mem := locks.NewMemory(locks.WithClock(base))
	for i, in := range instances {
		ports := &ctx.Ports{
			Locks:  mem,
			Ledger: f.watcher,
			Clock:  shiftedClock{Clock: base, offset: in.offset, lateBy: in.lateBy},
			Logger: log,
		}
		s := scheduler.New(ports, scheduler.WithHook(f.rec), scheduler.WithLocation(time.UTC),
			scheduler.WithInstanceID(string(rune('A'+i))))
		// Takeover watching arms timers of its own, which would blur the
		// test's count of armed loops; it is tested on its own.
		mustAdd(t, s, "fast", spec, func(*ctx.Context) error { return nil }, scheduler.AtMostOnce())
		start(t, s)
		f.scheds = append(f.scheds, s)
	}
	return f
}

// runTicks drives the fleet through n ticks of interval, one instance event
// at a time: an instance processes tick T when the base clock reaches
// T - offset + lateBy. After each event it waits until every instance due
// has tried to claim, the winner's run has reported, and every loop has
// re-armed its timer, so each step starts from a quiet fleet.
func (f *fleet) runTicks(t *testing.T, first time.Time, interval time.Duration, n int) {
	var events []time.Time
	for k := 0; k < n; k++ {
		tick := first.Add(time.Duration(k) * interval)
		for _, in := range f.instances {
			events = append(events, tick.Add(-in.offset+in.lateBy))
		}
	}
	sort.Slice(events, func(i, j int) bool { return events[i].Before(events[j]) })
	blockUntil(t, f.base, len(f.scheds))
	for i, ev := range events {
		if d := ev.Sub(f.base.Now()); d > 0 {
			f.base.Advance(d)
		}
		// All events at or before now are due.
		due := i + 1
		for due < len(events) && !events[due].After(f.base.Now()) {
			due++
		}
		won := f.watcher.waitAttempts(t, due)
		f.rec.waitFor(t, "the winners' reports", func(r []scheduler.Report) bool { return len(r) >= won })
		f.watcher.waitReleased(t, won)
		blockUntil(t, f.base, len(f.scheds))
	}
}

// checkExactlyOnce asserts one "ran" report per tick and nothing else.
func (f *fleet) checkExactlyOnce(t *testing.T, first time.Time, interval time.Duration, n int) {
	ran := map[time.Time]int{}
	for _, r := range f.rec.all() {
		if r.Outcome != scheduler.Ran {
			t.Errorf("unexpected report: %+v", r)
			continue
		}
		ran[r.Tick]++
	}
	dups, misses := 0, 0
	for k := 0; k < n; k++ {
		switch c := ran[first.Add(time.Duration(k)*interval)]; {
		case c == 0:
			misses++
		case c > 1:
			dups += c - 1
		}
	}
	if len(ran) != n-misses {
		t.Errorf("runs for %d ticks outside the driven range", len(ran)-(n-misses))
	}
	if dups != 0 || misses != 0 {
		t.Fatalf("over %d ticks: %d duplicates, %d misses", n, dups, misses)
	}
}

// Five instances whose clocks disagree by up to ±2 s, plus one whose timers
// fire a second late, run a fast handler every 10 s for 1000 ticks: each
// tick runs exactly once.
func TestSkewedFleetExactlyOnce(t *testing.T) {
	ticks := 1000
	if testing.Short() {
		ticks = 100
	}
	start := time.Date(2026, 12, 1, 0, 0, 5, 0, time.UTC) // mid-interval for everyone
	first := time.Date(2026, 12, 1, 0, 0, 10, 0, time.UTC)
	f := newFleet(t, start, "*/10 * * * * *", []instance{
		{offset: -2 * time.Second}, {offset: -time.Second}, {}, {offset: time.Second}, {offset: 2 * time.Second},
		{lateBy: time.Second},
	})
	f.runTicks(t, first, 10*time.Second, ticks)
	f.checkExactlyOnce(t, first, 10*time.Second, ticks)
}

// An instance that wakes later than the skew tolerance leaves the tick to
// the others and says so; it never runs it twice.
func TestLateWakerBeyondTolerance(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 5, 0, time.UTC)
	first := time.Date(2026, 12, 1, 0, 0, 10, 0, time.UTC)
	f := newFleet(t, start, "*/10 * * * * *", []instance{{}, {lateBy: 3 * time.Second}})
	// The late instance's timer fires 3 s after the tick, beyond the 2 s
	// tolerance: it reports the tick missed instead of claiming it.
	blockUntil(t, f.base, 2)
	f.base.Advance(5 * time.Second)
	f.rec.waitFor(t, "the on-time run", func(r []scheduler.Report) bool { return count(r, scheduler.Ran) == 1 })
	blockUntil(t, f.base, 2)
	f.base.Advance(3 * time.Second)
	reps := f.rec.waitFor(t, "the late instance's missed report", func(r []scheduler.Report) bool { return count(r, scheduler.Missed) == 1 })
	for _, r := range reps {
		if !r.Tick.Equal(first) {
			t.Errorf("report for tick %v, want %v", r.Tick, first)
		}
	}
	if w := f.watcher.waitAttempts(t, 1); w != 1 {
		t.Fatalf("%d claims won", w)
	}
}

// A tolerance of zero (or one below a timer's ordinary lateness) would make
// every instance report every tick missed: Add refuses it and names the
// value. The minimum itself still runs a tick whose wake-up was late.
func TestSkewToleranceBelowMinimumIsRefused(t *testing.T) {
	ok := func(*ctx.Context) error { return nil }
	for _, d := range []time.Duration{0, -time.Second, math.MinInt64, time.Nanosecond, scheduler.MinSkewTolerance - 1} {
		s := scheduler.New(newPorts(t).Ports, scheduler.WithSkewTolerance(d))
		err := s.Add("s", "@every 1m", ok)
		if !errors.Is(err, scheduler.ErrInvalidOption) || !strings.Contains(err.Error(), d.String()) {
			t.Errorf("WithSkewTolerance(%v): Add = %v, want ErrInvalidOption naming %v", d, err, d)
		}
	}

	base := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC))
	rec := newRecorder()
	s := scheduler.New(&ctx.Ports{
		Locks:  locks.NewMemory(locks.WithClock(base)),
		Clock:  shiftedClock{Clock: base, lateBy: scheduler.MinSkewTolerance / 2},
		Logger: zaptest.NewLogger(t),
	}, scheduler.WithSkewTolerance(scheduler.MinSkewTolerance), scheduler.WithHook(rec))
	mustAdd(t, s, "s", "@every 1m", ok)
	start(t, s)
	blockUntil(t, base, 1)
	base.Advance(30*time.Second + scheduler.MinSkewTolerance/2)
	reps := rec.waitFor(t, "the late wake-up's run", func(r []scheduler.Report) bool { return len(r) == 1 })
	if reps[0].Outcome != scheduler.Ran {
		t.Fatalf("woke %v late with tolerance %v: %+v", scheduler.MinSkewTolerance/2, scheduler.MinSkewTolerance, reps[0])
	}
}
