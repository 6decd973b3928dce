package scheduler_test

import (
	"context"
	"strings"
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

// pushCounter counts the run-now requests the ledger pushes to one
// instance.
type pushCounter struct {
	ledger.Ledger
	pushed atomic.Int64
}

func (p *pushCounter) Subscribe(c context.Context) (<-chan ledger.Request, error) {
	in, err := p.Ledger.Subscribe(c)
	if err != nil {
		return nil, err
	}
	out := make(chan ledger.Request, 64)
	go func() {
		defer close(out)
		for r := range in {
			if r.ID != "" {
				p.pushed.Add(1)
			}
			out <- r
		}
	}()
	return out, nil
}

// Two instances on real Redis, on a fake clock that never moves: their
// loops sleep until next year and their heartbeats for 10 s, so nothing
// but the ledger's pub/sub push can wake them. RunNow starts exactly one
// manual run, on one of them.
func TestRunNowIsPushedOnRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Redis")
	}
	tp := beignettest.CreateTestPorts(t, beignettest.StartAt(durableStart))
	client := redistest.SharedClient(t)
	prefix := redistest.UniquePrefix(t, client)
	var calls atomic.Int64
	var ranOn atomic.Value
	var counters []*pushCounter
	for _, id := range []string{"a", "b"} {
		p := *tp.Ports
		p.Locks = redislocks.New(client, prefix, redislocks.WithClock(tp.Clock))
		pc := &pushCounter{Ledger: redislocks.NewLedger(client, prefix, ledger.WithClock(tp.Clock))}
		p.Ledger = pc
		counters = append(counters, pc)
		s := scheduler.New(&p, scheduler.WithInstanceID(id))
		mustAdd(t, s, "yearly", "@yearly", func(c *ctx.Context) error {
			if run, _ := scheduler.RunFrom(c); run.Manual {
				calls.Add(1)
				ranOn.Store(run.Instance)
			}
			return nil
		})
		start(t, s)
	}
	tp.Advance(0) // both asleep on the clock, and subscribed
	frozen := tp.Clock.Now()
	cliPorts := *tp.Ports
	cliPorts.Ledger = redislocks.NewLedger(client, prefix, ledger.WithClock(tp.Clock))
	cli := scheduler.New(&cliPorts)
	c := context.Background()
	if err := cli.RunNow(c, "yearly"); err != nil {
		t.Fatal(err)
	}
	rec := waitRecord(t, cli, "yearly", func(r scheduler.RunRecord) bool { return r.Manual && r.Outcome == scheduler.Ran })
	waitPending(t, cliPorts.Ledger, "yearly")
	if !tp.Clock.Now().Equal(frozen) {
		t.Fatalf("the clock moved: the run may have been woken by a timer")
	}
	if n := calls.Load(); n != 1 || rec.Instance != ranOn.Load() || rec.Attempt != 1 {
		t.Fatalf("%d manual runs (record %+v), want 1", n, rec)
	}
	manual := 0
	for _, r := range runs(t, cli, "yearly") {
		if r.Manual {
			manual++
		}
	}
	if manual != 1 {
		t.Errorf("%d manual records, want 1: %+v", manual, runs(t, cli, "yearly"))
	}
	for i, pc := range counters {
		if n := pc.pushed.Load(); n != 1 {
			t.Errorf("instance %d was pushed %d requests, want 1", i, n)
		}
	}
}

// waitPending blocks until name has no run-now request left in l.
func waitPending(t *testing.T, l ledger.Ledger, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := l.PendingRequests(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("requests of %q still pending: %+v", name, p)
		}
		<-time.After(5 * time.Millisecond)
	}
}

// deadManualRun makes a run-now request of job and has instance "a" win
// it, take the run's lease and record it running, then die: neither is
// renewed again.
func deadManualRun(t *testing.T, tp *beignettest.TestPorts, ttl time.Duration) (ledger.Request, uint64) {
	t.Helper()
	c := context.Background()
	if err := tp.Ports.Ledger.Register(c, ledger.Definition{Name: "job", Spec: "@hourly", Location: "UTC"}); err != nil {
		t.Fatal(err)
	}
	r, err := tp.Ports.Ledger.RequestRun(c, "job")
	if err != nil {
		t.Fatal(err)
	}
	dead, err := tp.Ports.Locks.Acquire(c, "schedule:job", locks.Options{TTL: ttl})
	if err != nil || !dead.Acquired {
		t.Fatal(dead, err)
	}
	won, err := tp.Ports.Ledger.Claim(c, ledger.ClaimRequest{Schedule: "job", Tick: r.At, Manual: true, Request: r.ID, Owner: "a/1", Instance: "a", TTL: ttl})
	if err != nil || won.State != ledger.Won {
		t.Fatal(won, err)
	}
	if err := tp.Ports.Ledger.Put(c, scheduler.RunRecord{Schedule: "job", Tick: r.At, Manual: true, Attempt: 1, Instance: "a",
		FencingToken: dead.Lease.FencingToken(), Outcome: scheduler.Running, Started: tp.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	return r, dead.Lease.FencingToken()
}

// A manual run whose instance died is taken over like a tick: another
// instance that has the schedule runs it as attempt 2, with a higher
// token, once the dead claim lapses, and the dead attempt is recorded
// abandoned; the request is then finished.
func TestManualRunTakeover(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		const ttl = 10 * time.Second
		r, deadToken := deadManualRun(t, tp, ttl)
		var ran atomic.Int64
		var token atomic.Uint64
		s := scheduler.New(tp.Ports, scheduler.WithInstanceID("b"))
		mustAdd(t, s, "job", "@hourly", func(c *ctx.Context) error {
			run, _ := scheduler.RunFrom(c)
			if run.Manual {
				token.Store(run.Lease.FencingToken())
				ran.Add(1)
			}
			return nil
		}, scheduler.LeaseTTL(ttl))
		start(t, s) // finds the request pending, and its claim held
		tp.Advance(ttl - time.Second)
		if ran.Load() != 0 {
			t.Fatalf("taken over while the claim was live")
		}
		tp.Advance(2 * time.Second)
		if ran.Load() != 1 {
			t.Fatalf("manual run not taken over within the TTL after the last renewal")
		}
		rs := runs(t, s, "job")
		if len(rs) != 2 || !rs[0].Manual || rs[0].Outcome != scheduler.Ran || rs[0].Attempt != 2 || rs[0].Instance != "b" ||
			!rs[0].Tick.Equal(r.At) || !rs[1].Manual || rs[1].Outcome != scheduler.Abandoned || rs[1].Instance != "a" {
			t.Fatalf("records = %+v", rs)
		}
		if token.Load() <= deadToken {
			t.Errorf("takeover token %d, not above the dead run's %d", token.Load(), deadToken)
		}
		if p, _ := tp.Ports.Ledger.PendingRequests(context.Background(), "job"); len(p) != 0 {
			t.Errorf("request still pending after its run: %+v", p)
		}
		tp.Advance(time.Hour)
		if n := ran.Load(); n != 1 {
			t.Errorf("the manual run ran %d times", n)
		}
	})
}

// Under AtMostOnce a dead manual run is not run again: it stays abandoned
// and its request is closed.
func TestManualRunAtMostOnce(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		const ttl = 10 * time.Second
		deadManualRun(t, tp, ttl)
		var ran atomic.Int64
		s := scheduler.New(tp.Ports, scheduler.WithInstanceID("b"))
		mustAdd(t, s, "job", "@hourly", func(c *ctx.Context) error {
			if run, _ := scheduler.RunFrom(c); run.Manual {
				ran.Add(1)
			}
			return nil
		}, scheduler.LeaseTTL(ttl), scheduler.AtMostOnce())
		start(t, s)
		tp.Advance(2 * ttl)
		if n := ran.Load(); n != 0 {
			t.Fatalf("an AtMostOnce manual run ran again %d times", n)
		}
		rs := runs(t, s, "job")
		if len(rs) != 2 || rs[0].Outcome != scheduler.Abandoned || rs[0].Attempt != 2 || !strings.Contains(rs[0].Err, "AtMostOnce") ||
			rs[1].Outcome != scheduler.Abandoned || rs[1].Instance != "a" || !rs[0].Manual || !rs[1].Manual {
			t.Fatalf("records = %+v, want the dead attempt abandoned, and the takeover abandoned for AtMostOnce", rs)
		}
		if p, _ := tp.Ports.Ledger.PendingRequests(context.Background(), "job"); len(p) != 0 {
			t.Errorf("request still pending: %+v", p)
		}
	})
}

// Under OverlapWait, a tick waiting for an earlier run held by another
// instance starts as soon as that run finishes, woken by the ledger's push,
// not at the holder's claim expiry: the fake clock does not move between
// the finish and the run.
func TestOverlapWaitWakesOnFinishElsewhere(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		c := context.Background()
		if err := tp.Ports.Ledger.Register(c, ledger.Definition{Name: "job", Spec: "@every 1m", Location: "UTC"}); err != nil {
			t.Fatal(err)
		}
		tick1 := time.Date(2026, 12, 1, 0, 1, 0, 0, time.UTC)
		tp.Advance(tick1.Sub(tp.Clock.Now()))
		other := ledger.ClaimRequest{Schedule: "job", Tick: tick1, Owner: "a/1", Instance: "a", TTL: 10 * time.Minute}
		if won, err := tp.Ports.Ledger.Claim(c, other); err != nil || won.State != ledger.Won {
			t.Fatal(won, err)
		}
		tp.Advance(30 * time.Second)
		var ran atomic.Int64
		s := scheduler.New(tp.Ports, scheduler.WithInstanceID("b"))
		mustAdd(t, s, "job", "@every 1m", func(*ctx.Context) error { ran.Add(1); return nil },
			scheduler.WithOverlap(scheduler.OverlapWait))
		start(t, s)
		tp.Advance(30 * time.Second) // tick 2: held by a's run of tick 1; b waits
		if ran.Load() != 0 {
			t.Fatalf("ran while the earlier run held the schedule")
		}
		at := tp.Clock.Now()
		if err := tp.Ports.Ledger.Finish(c, other); err != nil {
			t.Fatal(err)
		}
		rec := waitRecord(t, s, "job", func(r scheduler.RunRecord) bool { return r.Outcome == scheduler.Ran })
		if !rec.Tick.Equal(tick1.Add(time.Minute)) || !rec.Started.Equal(at) || !tp.Clock.Now().Equal(at) {
			t.Fatalf("tick 2 ran at %v (record %+v), want at once, at %v", tp.Clock.Now(), rec, at)
		}
	})
}
