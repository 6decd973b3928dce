package scheduler_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"
)

var errDead = errors.New("instance is dead")

// killSwitch cuts an instance off from the ledger and the locks: every
// write and renewal fails from the moment it is thrown, as if the process
// had been SIGKILLed (its goroutines still run here, but nothing they do
// reaches the shared state).
type killSwitch struct{ dead atomic.Bool }

type killLedger struct {
	ledger.Ledger
	k *killSwitch
}

func (l killLedger) Claim(c context.Context, r ledger.ClaimRequest) (ledger.Claim, error) {
	if l.k.dead.Load() {
		return ledger.Claim{}, errDead
	}
	return l.Ledger.Claim(c, r)
}
func (l killLedger) Renew(c context.Context, r ledger.ClaimRequest) (bool, error) {
	if l.k.dead.Load() {
		return false, errDead
	}
	return l.Ledger.Renew(c, r)
}
func (l killLedger) Finish(c context.Context, r ledger.ClaimRequest) error {
	if l.k.dead.Load() {
		return errDead
	}
	return l.Ledger.Finish(c, r)
}
func (l killLedger) Release(c context.Context, r ledger.ClaimRequest) error {
	if l.k.dead.Load() {
		return errDead
	}
	return l.Ledger.Release(c, r)
}
func (l killLedger) Put(c context.Context, r ledger.Record) error {
	if l.k.dead.Load() {
		return errDead
	}
	return l.Ledger.Put(c, r)
}

type killLocks struct {
	locks.Locks
	k  *killSwitch
	tp *beignettest.TestPorts
}

func (l killLocks) Acquire(c context.Context, key string, o locks.Options) (locks.Result, error) {
	if l.k.dead.Load() {
		return locks.Result{}, errDead
	}
	r, err := l.Locks.Acquire(c, key, o)
	if r.Lease != nil {
		r.Lease = killLease{r.Lease, l.k}
	}
	return r, err
}

func (l killLocks) WithLease(c context.Context, key string, o locks.Options, fn func(context.Context, locks.Lease) error) error {
	return locks.RunWithLease(c, l.tp.Ports.Clock, l, key, o, fn)
}

type killLease struct {
	locks.Lease
	k *killSwitch
}

func (l killLease) Renew(c context.Context, d time.Duration) (bool, error) {
	if l.k.dead.Load() {
		return false, errDead
	}
	return l.Lease.Renew(c, d)
}
func (l killLease) Release(c context.Context) error {
	if l.k.dead.Load() {
		return errDead
	}
	return l.Lease.Release(c)
}

// instancePorts are tp's ports for one instance that can be killed.
func instancePorts(tp *beignettest.TestPorts) (*ctx.Ports, *killSwitch) {
	k := &killSwitch{}
	p := *tp.Ports
	p.Ledger = killLedger{tp.Ports.Ledger, k}
	p.Locks = killLocks{tp.Ports.Locks, k, tp}
	return &p, k
}

// Three instances on one ledger: the one that wins the 00:01 tick dies
// mid-run; exactly one of the other two runs the tick as attempt 2, with a
// higher token, within LeaseTTL + 1 s of the death, and the dead attempt
// is recorded abandoned. Nothing runs twice.
func TestThreeInstancesTakeOverADeadWinner(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		const ttl = 10 * time.Second
		var mu sync.Mutex
		kill := map[string]*killSwitch{}
		type call struct {
			inst    string
			attempt int
			token   uint64
			at      time.Time
		}
		var calls []call
		h := func(c *ctx.Context) error {
			run, _ := scheduler.RunFrom(c)
			mu.Lock()
			calls = append(calls, call{run.Instance, run.Attempt, run.Lease.FencingToken(), tp.Clock.Now()})
			first := len(calls) == 1
			mu.Unlock()
			if first && run.Tick.Equal(time.Date(2026, 12, 1, 0, 1, 0, 0, time.UTC)) {
				kill[run.Instance].dead.Store(true)
				<-c.Done() // the dead process never returns; here it just reaches nothing
				return c.Err()
			}
			return nil
		}
		for _, id := range []string{"a", "b", "c"} {
			p, k := instancePorts(tp)
			kill[id] = k
			s := scheduler.New(p, scheduler.WithInstanceID(id))
			mustAdd(t, s, "job", "@every 1m", h, scheduler.LeaseTTL(ttl))
			startKillable(t, s)
		}
		tp.Advance(60 * time.Second) // to 00:01:30: the 00:01 tick, death, takeover
		mu.Lock()
		got := append([]call(nil), calls...)
		mu.Unlock()
		if len(got) != 2 {
			t.Fatalf("calls = %+v, want the dead attempt and one takeover", got)
		}
		if got[1].inst == got[0].inst || got[1].attempt != 2 || got[1].token <= got[0].token {
			t.Errorf("takeover %+v after %+v", got[1], got[0])
		}
		if lat := got[1].at.Sub(got[0].at); lat > ttl+time.Second {
			t.Errorf("takeover latency %v, over LeaseTTL+1s", lat)
		}
		rs := runs(t, scheduler.New(tp.Ports), "job")
		t.Logf("records: %v", outcomes(rs))
		if len(rs) != 2 || rs[0].Outcome != scheduler.Ran || rs[0].Attempt != 2 || rs[1].Outcome != scheduler.Abandoned || rs[1].Attempt != 1 {
			t.Errorf("records = %+v", rs)
		}
		tp.Advance(2 * time.Minute)
		mu.Lock()
		defer mu.Unlock()
		if len(calls) != 4 {
			t.Errorf("calls = %+v, want two more ticks, once each", calls)
		}
	})
}

// A winner that dies when its claim can no longer lapse before the next
// tick: the tick is recorded abandoned, never silently dropped, and the
// next ticks run. Memory only: over four minutes of steps, Advance can
// move the clock while a Redis reply is on its way (it counts a goroutine
// in IO wait as quiet), which under load lapses a live claim.
func TestDeathTooLateForTakeoverIsAbandoned(t *testing.T) {
	func(fn func(t *testing.T, tp *beignettest.TestPorts)) {
		fn(t, beignettest.CreateTestPorts(t, beignettest.StartAt(durableStart)))
	}(func(t *testing.T, tp *beignettest.TestPorts) {
		const ttl = 45 * time.Second
		var mu sync.Mutex
		kill := map[string]*killSwitch{}
		var ran []string
		h := func(c *ctx.Context) error {
			run, _ := scheduler.RunFrom(c)
			mu.Lock()
			first := len(ran) == 0
			ran = append(ran, run.Tick.Format(time.TimeOnly))
			mu.Unlock()
			if first {
				// Dies 40 s in: its claim, renewed every 15 s, lapses
				// after the 00:02 tick.
				<-tp.Clock.After(40 * time.Second)
				kill[run.Instance].dead.Store(true)
				<-c.Done()
				return c.Err()
			}
			return nil
		}
		for _, id := range []string{"a", "b"} {
			p, k := instancePorts(tp)
			kill[id] = k
			s := scheduler.New(p, scheduler.WithInstanceID(id))
			mustAdd(t, s, "job", "@every 1m", h, scheduler.LeaseTTL(ttl))
			startKillable(t, s)
		}
		tp.Advance(4 * time.Minute)
		rs := runs(t, scheduler.New(tp.Ports), "job")
		byTick := map[string][]scheduler.Outcome{}
		for _, r := range rs {
			k := r.Tick.Format(time.TimeOnly)
			byTick[k] = append(byTick[k], r.Outcome)
		}
		t.Logf("ran %v; records %v", ran, byTick)
		if o := byTick["00:01:00"]; len(o) != 1 || o[0] != scheduler.Abandoned {
			t.Errorf("00:01 records %v, want one abandoned", o)
		}
		if o := byTick["00:04:00"]; len(o) != 1 || o[0] != scheduler.Ran {
			t.Errorf("00:04 records %v, want ran", o)
		}
	})
}

// Retry racing a takeover: attempt 1 fails, its instance dies during the
// backoff; another instance runs attempt 2. Each attempt is one record.
func TestDeathDuringRetryBackoffOneRecordPerAttempt(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		const ttl = 10 * time.Second
		var mu sync.Mutex
		kill := map[string]*killSwitch{}
		var calls []string
		h := func(c *ctx.Context) error {
			run, _ := scheduler.RunFrom(c)
			mu.Lock()
			calls = append(calls, run.Instance)
			first := len(calls) == 1
			mu.Unlock()
			if first {
				// Fail, then die during the 20 s backoff.
				go func() { <-tp.Clock.After(time.Second); kill[run.Instance].dead.Store(true) }()
				return errors.New("boom")
			}
			return nil
		}
		for _, id := range []string{"a", "b"} {
			p, k := instancePorts(tp)
			kill[id] = k
			s := scheduler.New(p, scheduler.WithInstanceID(id))
			mustAdd(t, s, "job", "@every 1m", h, scheduler.LeaseTTL(ttl), scheduler.Retry(3, 20*time.Second, time.Minute))
			startKillable(t, s)
		}
		tp.Advance(60 * time.Second)
		rs := runs(t, scheduler.New(tp.Ports), "job")
		for _, r := range rs {
			t.Logf("%s attempt %d on %s: %s %s", r.Tick.Format(time.TimeOnly), r.Attempt, r.Instance, r.Outcome, r.Err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(calls) != 2 || calls[0] == calls[1] {
			t.Fatalf("calls %v, want a failure and a takeover elsewhere", calls)
		}
		seen := map[int]int{}
		for _, r := range rs {
			seen[r.Attempt]++
		}
		if seen[1] != 1 || seen[2] != 1 {
			t.Errorf("records per attempt %v, want one each", seen)
		}
	})
}

// startKillable is start for an instance that may be killed: its dead
// run never ends on its own (the fake clock stops with the test), so Stop
// cancels it after a moment.
func startKillable(t *testing.T, s *scheduler.Scheduler) {
	t.Helper()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.Stop(c)
	})
}
