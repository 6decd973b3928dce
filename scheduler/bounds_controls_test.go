package scheduler_test

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// The scheduler itself, on Redis locks and the Redis ledger of a private
// server, runs 2,000 ticks of an every-second schedule: the number of keys
// on the server stays the same from tick 100 on.
func TestRedisKeysConstantOverThousandsOfTicks(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Redis")
	}
	srv := redistest.Start(t)
	client := srv.Client()
	t.Cleanup(func() { _ = client.Close() })
	tp := beignettest.CreateTestPorts(t, beignettest.StartAt(durableStart))
	tp.Ports.Locks = redislocks.New(client, "p", redislocks.WithClock(tp.Clock))
	tp.Ports.Ledger = redislocks.NewLedger(client, "p", ledger.WithClock(tp.Clock))
	s := scheduler.New(tp.Ports)
	var ran atomic.Int64
	mustAdd(t, s, "fast", "@every 1s", func(*ctx.Context) error { ran.Add(1); return nil })
	start(t, s)
	keys := func() int {
		n := 0
		it := client.Scan(context.Background(), 0, "*", 1000).Iterator()
		for it.Next(context.Background()) {
			n++
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Past the history bound (100 runs) first, then 15 times as long:
	// enough to show growth, and a fifth of the time 10,000 ticks took
	// (BenchmarkLedgerMemoryPerSchedule goes to 10,000).
	tp.Advance(100 * time.Second)
	at100 := keys()
	for i := 0; i < 19; i++ {
		tp.Advance(100 * time.Second)
	}
	at2000 := keys()
	t.Logf("%d runs; keys after 100 ticks %d, after 2,000 %d", ran.Load(), at100, at2000)
	if at2000 != at100 {
		t.Errorf("keys grew from %d to %d", at100, at2000)
	}
	if ran.Load() < 1990 {
		t.Errorf("%d runs, want ~2,000", ran.Load())
	}
}

// A fleet down for a day under an every-second schedule: at start,
// RunMissed runs one tick, and the missed records stay bounded.
func TestCatchUpADayOfSeconds(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		c := context.Background()
		before := scheduler.New(tp.Ports)
		mustAdd(t, before, "sec", "@every 1s", func(*ctx.Context) error { return nil })
		start(t, before)
		tp.Advance(3 * time.Second)
		if err := before.Stop(c); err != nil {
			t.Fatal(err)
		}
		tp.Advance(24 * time.Hour)
		var ran atomic.Int64
		s := scheduler.New(tp.Ports)
		mustAdd(t, s, "sec", "@every 1s", func(*ctx.Context) error { ran.Add(1); return nil }, scheduler.RunMissed())
		t0 := time.Now()
		start(t, s)
		// Waited for in the ledger, not by Advance(0) alone: Advance sees
		// a goroutine waiting on Redis's reply as quiet.
		waitRecord(t, s, "sec", func(r scheduler.RunRecord) bool {
			return r.Outcome == scheduler.Ran && r.Tick.After(tp.Clock.Now().Add(-2*time.Second))
		})
		tp.Advance(0)
		t.Logf("started and caught up in %v", time.Since(t0))
		if n := ran.Load(); n != 1 {
			t.Errorf("%d runs at start, want 1", n)
		}
		rs := runs(t, s, "sec")
		missed := 0
		for _, r := range rs {
			if r.Outcome == scheduler.Missed {
				missed++
			}
		}
		t.Logf("%d records, %d missed, newest %v %v", len(rs), missed, rs[0].Outcome, rs[0].Tick)
		if len(rs) > ledger.DefaultHistory || missed == 0 {
			t.Errorf("%d records (%d missed)", len(rs), missed)
		}
	})
}

// Edges of the controls: RunNow twice quickly runs twice, one after the
// other, never at once; RunNow of an unknown name; Runs limits; Stop twice;
// Start after Stop; Add twice; Pause surviving a restart.
func TestControlEdgesAcrossInstances(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		c := context.Background()
		var inFlight, maxInFlight, manual atomic.Int64
		h := func(cc *ctx.Context) error {
			if n := inFlight.Add(1); n > maxInFlight.Load() {
				maxInFlight.Store(n)
			}
			defer inFlight.Add(-1)
			if run, _ := scheduler.RunFrom(cc); run.Manual {
				manual.Add(1)
			}
			return nil
		}
		a := scheduler.New(tp.Ports, scheduler.WithInstanceID("a"))
		b := scheduler.New(tp.Ports, scheduler.WithInstanceID("b"))
		for _, s := range []*scheduler.Scheduler{a, b} {
			mustAdd(t, s, "job", "@hourly", h)
			if err := s.Add("job", "@daily", h); !errors.Is(err, scheduler.ErrDuplicateName) {
				t.Errorf("Add twice = %v", err)
			}
			start(t, s)
		}
		if err := a.RunNow(c, "nope"); !errors.Is(err, scheduler.ErrUnknownSchedule) {
			t.Errorf("RunNow(unknown) = %v", err)
		}
		if err := a.RunNow(c, "job"); err != nil {
			t.Fatal(err)
		}
		if err := b.RunNow(c, "job"); err != nil {
			t.Fatal(err)
		}
		waitRecordCount(t, a, "job", 2, func(r scheduler.RunRecord) bool { return r.Manual && r.Outcome == scheduler.Ran })
		tp.Advance(0)
		if manual.Load() != 2 || maxInFlight.Load() != 1 {
			t.Errorf("%d manual runs, %d at once; want 2, 1", manual.Load(), maxInFlight.Load())
		}
		for _, lim := range []int{0, 1, math.MaxInt} {
			rs, err := a.Runs(c, "job", lim)
			if err != nil || (lim == 1 && len(rs) != 1) || (lim != 1 && len(rs) != 2) {
				t.Errorf("Runs(%d) = %d records, %v", lim, len(rs), err)
			}
		}
		if _, err := a.Runs(c, "job", -1); err == nil {
			t.Error("Runs(-1) succeeded")
		}
		if err := a.Pause(c, "job"); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*scheduler.Scheduler{a, b} {
			if err := s.Stop(c); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Stop(c); err != nil {
			t.Errorf("Stop twice = %v", err)
		}
		if err := a.Start(); err == nil {
			t.Error("Start after Stop succeeded")
		}
		var ticks atomic.Int64
		r := scheduler.New(tp.Ports, scheduler.WithInstanceID("restarted"))
		mustAdd(t, r, "job", "@hourly", func(*ctx.Context) error { ticks.Add(1); return nil })
		start(t, r)
		tp.Advance(2 * time.Hour)
		if ticks.Load() != 0 {
			t.Errorf("%d ticks ran after a restart while paused", ticks.Load())
		}
		st, err := r.Schedules(c)
		if err != nil || len(st) != 1 || !st[0].Paused {
			t.Errorf("Schedules = %+v, %v", st, err)
		}
	})
}

// Schedules on an empty ledger is empty, not an error; a schedule in a
// fixed zone reports its next tick in that zone.
func TestSchedulesFixedZone(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		c := context.Background()
		empty := scheduler.New(tp.Ports)
		if st, err := empty.Schedules(c); err != nil || len(st) != 0 {
			t.Fatalf("Schedules on an empty ledger = %+v, %v", st, err)
		}
		loc := time.FixedZone("UTC+5", 5*3600)
		s := scheduler.New(tp.Ports, scheduler.WithLocation(loc))
		mustAdd(t, s, "z", "0 7 * * *", func(*ctx.Context) error { return nil })
		start(t, s)
		st, err := s.Schedules(c)
		if err != nil || len(st) != 1 {
			t.Fatalf("Schedules = %+v, %v", st, err)
		}
		want := time.Date(2026, 12, 1, 7, 0, 0, 0, loc)
		if !st[0].Next.Equal(want) {
			t.Errorf("Next = %v (location %v), want %v", st[0].Next, st[0].Location, want)
		}
	})
}
