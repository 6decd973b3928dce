package scheduler_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// onLedgers runs fn once on the in-memory ledger and once on the Redis
// ledger (real server, the adapter on the test's fake clock).
func onLedgers(t *testing.T, fn func(t *testing.T, tp *beignettest.TestPorts)) {
	onLedgersAt(t, durableStart, fn)
}

// useRedisLedger puts tp on a Redis ledger under a prefix of the test's.
func useRedisLedger(t *testing.T, tp *beignettest.TestPorts) {
	c := redistest.SharedClient(t)
	tp.Ports.Ledger = redislocks.NewLedger(c, redistest.UniquePrefix(t, c), ledger.WithClock(tp.Clock))
}

var durableStart = time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC)

func runs(t *testing.T, s *scheduler.Scheduler, name string) []scheduler.RunRecord {
	t.Helper()
	rs, err := s.Runs(context.Background(), name, 0)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func outcomes(rs []scheduler.RunRecord) []scheduler.Outcome {
	var out []scheduler.Outcome
	for _, r := range rs {
		out = append(out, r.Outcome)
	}
	return out
}

// A failing handler runs again with exponential backoff under the same
// tick, each attempt a record, until it succeeds; and a handler that keeps
// failing stops when the next tick is due.
func TestRetries(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		s := scheduler.New(tp.Ports)
		var calls atomic.Int64
		mustAdd(t, s, "flaky", "@every 1m", func(c *ctx.Context) error {
			run, _ := scheduler.RunFrom(c)
			if int(calls.Add(1)) != run.Attempt {
				t.Errorf("call %d is attempt %d", calls.Load(), run.Attempt)
			}
			if run.Attempt < 3 {
				return errors.New("not yet")
			}
			return nil
		}, scheduler.Retry(5, 10*time.Second, time.Minute))
		var always atomic.Int64
		mustAdd(t, s, "broken", "@every 1m", func(*ctx.Context) error {
			always.Add(1)
			return errors.New("always")
		}, scheduler.Retry(10, 20*time.Second, time.Minute))
		start(t, s)
		tp.Advance(time.Minute) // the 00:01 tick, and its retries at +10 s and +30 s
		rs := runs(t, s, "flaky")
		want := []scheduler.Outcome{scheduler.Ran, scheduler.Failed, scheduler.Failed}
		if got := outcomes(rs); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("flaky runs = %v, want %v", got, want)
		}
		if rs[0].Attempt != 3 || rs[2].Attempt != 1 || !rs[0].Tick.Equal(rs[2].Tick) || rs[0].Err != "" || rs[1].Err != "not yet" {
			t.Errorf("records = %+v", rs)
		}
		// 00:01:00 and 00:01:20; the next backoff (40 s) would reach the
		// 00:02 tick, so the tick ends there, not at 10 attempts.
		if n := always.Load(); n != 2 {
			t.Errorf("the always-failing handler ran %d times in its tick, want 2", n)
		}
	})
}

// After the whole fleet was down, RunMissed runs the latest missed tick
// once and records the ticks before it as missed; without it, the next
// tick records them all.
func TestCatchUp(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		// A fleet ran the 00:00 tick of a daily schedule, then went down.
		before := scheduler.New(tp.Ports)
		mustAdd(t, before, "daily", "0 0 * * *", func(*ctx.Context) error { return nil })
		if err := before.Start(); err != nil {
			t.Fatal(err)
		}
		if err := before.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		c := context.Background()
		day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		req := ledger.ClaimRequest{Schedule: "daily", Tick: day, Owner: "old", Instance: "old", TTL: time.Minute}
		if _, err := tp.Ports.Ledger.Claim(c, req); err != nil {
			t.Fatal(err)
		}
		if err := tp.Ports.Ledger.Finish(c, req); err != nil {
			t.Fatal(err)
		}
		tp.Advance(4*24*time.Hour + 6*time.Hour) // Dec 5, 06:00

		var ran atomic.Int64
		s := scheduler.New(tp.Ports)
		mustAdd(t, s, "daily", "0 0 * * *", func(*ctx.Context) error { ran.Add(1); return nil }, scheduler.RunMissed())
		start(t, s)
		tp.Advance(time.Second)
		if ran.Load() != 1 {
			t.Fatalf("caught up %d runs, want 1", ran.Load())
		}
		rs := runs(t, s, "daily")
		got := outcomes(rs)
		if len(got) != 4 || got[0] != scheduler.Ran || got[1] != scheduler.Missed || got[3] != scheduler.Missed {
			t.Fatalf("records = %v, want the Dec 5 run and Dec 4, 3, 2 missed", got)
		}
		if !rs[0].Tick.Equal(day.AddDate(0, 0, 4)) || !rs[1].Tick.Equal(day.AddDate(0, 0, 3)) || !rs[3].Tick.Equal(day.AddDate(0, 0, 1)) {
			t.Errorf("ticks: run %v, missed %v..%v", rs[0].Tick, rs[1].Tick, rs[3].Tick)
		}
	})
}

// Pause stops every instance running the schedule, across a restart;
// Resume starts it again without replaying the paused ticks; RunNow runs a
// paused schedule once, on exactly one instance.
func TestPauseResumeRunNow(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		var ran, manual atomic.Int64
		h := func(c *ctx.Context) error {
			if run, _ := scheduler.RunFrom(c); run.Manual {
				manual.Add(1)
				return nil
			}
			ran.Add(1)
			return nil
		}
		a := scheduler.New(tp.Ports, scheduler.WithInstanceID("a"))
		b := scheduler.New(tp.Ports, scheduler.WithInstanceID("b"))
		for _, s := range []*scheduler.Scheduler{a, b} {
			mustAdd(t, s, "job", "@every 1m", h)
			start(t, s)
		}
		cli := scheduler.New(tp.Ports) // an operator's process: never started
		c := context.Background()
		if err := cli.Pause(c, "job"); err != nil {
			t.Fatal(err)
		}
		tp.Advance(3 * time.Minute)
		if n := ran.Load(); n != 0 {
			t.Fatalf("%d runs while paused", n)
		}
		// Each paused tick is recorded once, by one of the two
		// instances, so the pause's gap shows in the history.
		paused := map[time.Time]int{}
		for _, r := range runs(t, cli, "job") {
			if r.Outcome == scheduler.SkippedPaused {
				paused[r.Tick]++
			}
		}
		if len(paused) != 3 {
			t.Errorf("paused ticks recorded: %v, want the 3 of the paused minutes", paused)
		}
		for tick, n := range paused {
			if n != 1 || tick.Second() != 0 {
				t.Errorf("paused tick %v recorded %d times, want once", tick, n)
			}
		}
		if err := cli.RunNow(c, "job"); err != nil {
			t.Fatal(err)
		}
		rec := waitRecord(t, cli, "job", func(r scheduler.RunRecord) bool { return r.Manual && r.Outcome == scheduler.Ran })
		tp.Advance(0)
		if n := manual.Load(); n != 1 || rec.Attempt != 1 {
			t.Fatalf("RunNow ran %d times (record %+v), want once", n, rec)
		}
		if p, _ := tp.Ports.Ledger.PendingRequests(c, "job"); len(p) != 0 {
			t.Errorf("request still pending: %+v", p)
		}
		if err := cli.Resume(c, "job"); err != nil {
			t.Fatal(err)
		}
		tp.Advance(time.Minute)
		if n := ran.Load(); n != 1 {
			t.Fatalf("%d runs in the minute after Resume, want 1", n)
		}
		for _, r := range runs(t, cli, "job") {
			if r.Outcome == scheduler.Missed {
				t.Errorf("a paused tick was recorded as missed: %+v", r)
			}
		}
	})
}

func waitRecord(t *testing.T, s *scheduler.Scheduler, name string, ok func(scheduler.RunRecord) bool) scheduler.RunRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, r := range runs(t, s, name) {
			if ok(r) {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no matching record of %q: %+v", name, runs(t, s, name))
		}
		<-time.After(5 * time.Millisecond)
	}
}

// Remove stops this instance scheduling the name; adding it again with a
// new spec replaces it, in the ledger too.
func TestRemoveAndReAdd(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		s := scheduler.New(tp.Ports)
		var ran atomic.Int64
		h := func(*ctx.Context) error { ran.Add(1); return nil }
		mustAdd(t, s, "job", "@every 1m", h)
		start(t, s)
		if err := s.Remove("job"); err != nil {
			t.Fatal(err)
		}
		tp.Advance(3 * time.Minute)
		if n := ran.Load(); n != 0 {
			t.Fatalf("%d runs after Remove", n)
		}
		mustAdd(t, s, "job", "@every 1h", h)
		tp.Advance(time.Hour)
		if n := ran.Load(); n != 1 {
			t.Fatalf("%d runs in the hour after re-adding, want 1", n)
		}
		all, err := s.Schedules(context.Background())
		if err != nil || len(all) != 1 || all[0].Spec != "@every 1h" {
			t.Fatalf("Schedules = %+v, %v", all, err)
		}
	})
}

// An instance that won a tick and died (its claim and lease stop being
// renewed) is taken over by another instance while the tick is current:
// attempt 2, a higher fencing token, and the dead attempt recorded as
// abandoned.
func TestTakeoverOnFakeClock(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		const ttl = 10 * time.Second
		c := context.Background()
		tick := time.Date(2026, 12, 1, 0, 1, 0, 0, time.UTC)
		s := scheduler.New(tp.Ports, scheduler.WithInstanceID("b"))
		var ran atomic.Int64
		var token atomic.Uint64
		mustAdd(t, s, "job", "@every 1m", func(c *ctx.Context) error {
			run, _ := scheduler.RunFrom(c)
			token.Store(run.Lease.FencingToken())
			ran.Add(1)
			return nil
		}, scheduler.LeaseTTL(ttl))
		if err := tp.Ports.Ledger.Register(c, ledger.Definition{Name: "job", Spec: "@every 1m", Location: "UTC"}); err != nil {
			t.Fatal(err)
		}
		tp.Advance(tick.Sub(tp.Clock.Now()) - time.Second)
		// Instance a wins the tick, takes the run's lease, then dies.
		dead, err := tp.Ports.Locks.Acquire(c, "schedule:job", locks.Options{TTL: ttl})
		if err != nil || !dead.Acquired {
			t.Fatal(dead, err)
		}
		tp.Advance(time.Second)
		won, err := tp.Ports.Ledger.Claim(c, ledger.ClaimRequest{Schedule: "job", Tick: tick, Owner: "a/1", Instance: "a", TTL: ttl})
		if err != nil || won.State != ledger.Won {
			t.Fatal(won, err)
		}
		if err := tp.Ports.Ledger.Put(c, scheduler.RunRecord{Schedule: "job", Tick: tick, Attempt: 1, Instance: "a",
			FencingToken: dead.Lease.FencingToken(), Outcome: scheduler.Running, Started: tp.Clock.Now()}); err != nil {
			t.Fatal(err)
		}
		start(t, s) // b joins the tick within its skew tolerance, and watches it
		tp.Advance(ttl - time.Second)
		if ran.Load() != 0 {
			t.Fatalf("taken over while the claim was live")
		}
		tp.Advance(2 * time.Second)
		if ran.Load() != 1 {
			t.Fatalf("not taken over within the TTL after the last renewal")
		}
		rs := runs(t, s, "job")
		if len(rs) != 2 || rs[0].Outcome != scheduler.Ran || rs[0].Attempt != 2 || rs[0].Instance != "b" ||
			rs[1].Outcome != scheduler.Abandoned || rs[1].Instance != "a" || rs[1].Err == "" {
			t.Fatalf("records = %+v", rs)
		}
		if token.Load() <= dead.Lease.FencingToken() {
			t.Errorf("takeover token %d, not above the dead run's %d", token.Load(), dead.Lease.FencingToken())
		}
		tp.Advance(time.Minute)
		if ran.Load() != 2 {
			t.Errorf("%d runs, want the next tick too", ran.Load())
		}
	})
}

// However long a schedule runs, its history holds the newest
// ledger.DefaultHistory records.
func TestLedgerBound(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		s := scheduler.New(tp.Ports)
		mustAdd(t, s, "fast", "@every 1s", func(*ctx.Context) error { return nil })
		start(t, s)
		tp.Advance(ledger.DefaultHistory*time.Second + 50*time.Second)
		rs := runs(t, s, "fast")
		if len(rs) != ledger.DefaultHistory {
			t.Fatalf("%d records kept, want %d", len(rs), ledger.DefaultHistory)
		}
		if !rs[0].Tick.After(rs[len(rs)-1].Tick) {
			t.Errorf("not newest first: %v .. %v", rs[0].Tick, rs[len(rs)-1].Tick)
		}
	})
}
