package faults_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/netproxy"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// faultClient fails fast, as production clients should be configured to,
// so that a dead Redis shows up as errors within the trust window.
func faultClient(t *testing.T, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// record collects a fleet's reports.
type record struct {
	mu      sync.Mutex
	reports []scheduler.Report
	cancels []cancel
}

type cancel struct {
	at, trustEnd time.Time
	cause        error
	pttl         time.Duration // the server's view at that moment, when it could be asked
}

func (r *record) OnRun(rep scheduler.Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = append(r.reports, rep)
}

func (r *record) ran(after time.Time) map[time.Time][]scheduler.Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[time.Time][]scheduler.Report{}
	for _, rep := range r.reports {
		if rep.Schedule == "fast" && rep.Outcome == scheduler.Ran && !rep.Tick.Before(after) {
			out[rep.Tick] = append(out[rep.Tick], rep)
		}
	}
	return out
}

func (r *record) waitRan(t *testing.T, after time.Time, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(r.ran(after)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d runs after %v", n, after)
		}
		<-time.After(20 * time.Millisecond)
	}
}

func (r *record) waitCancel(t *testing.T) cancel {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		if len(r.cancels) > 0 {
			c := r.cancels[0]
			r.mu.Unlock()
			return c
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("the running handler was never cancelled")
		}
		<-time.After(20 * time.Millisecond)
	}
}

// startInstance runs a scheduler with "fast" (every second, 1 ms) and, if
// holdLong, "long" (a handler that holds its lease until cancelled).
func startInstance(t *testing.T, c *redis.Client, prefix, id string, rec *record, holdLong bool, observer *redis.Client) {
	l := redislocks.New(c, prefix)
	ports := &ctx.Ports{Locks: l, Ledger: redislocks.NewLedger(c, prefix), Clock: clockwork.NewRealClock(), Logger: zaptest.NewLogger(t)}
	s := scheduler.New(ports, scheduler.WithInstanceID(id), scheduler.WithHook(rec))
	if err := s.Add("fast", "* * * * * *", func(*ctx.Context) error {
		time.Sleep(time.Millisecond) // the 1 ms job
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if holdLong {
		err := s.Add("long", "* * * * * *", func(c *ctx.Context) error {
			run, _ := scheduler.RunFrom(c)
			<-c.Done()
			cn := cancel{at: time.Now(), trustEnd: run.Lease.ExpiresAt(), cause: context.Cause(c), pttl: -1}
			if observer != nil {
				cn.pttl, _ = observer.PTTL(context.Background(), l.LeaseKey("schedule:long")).Result()
			}
			rec.mu.Lock()
			rec.cancels = append(rec.cancels, cn)
			rec.mu.Unlock()
			return nil
		}, scheduler.LeaseTTL(time.Second))
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// "long" only ends when cancelled: give Stop a deadline.
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.Stop(c)
	})
}

// checkOnce fails on any tick of "fast" that ran twice, and returns the
// highest fencing token seen.
func checkOnce(t *testing.T, rec *record, after time.Time) uint64 {
	var top uint64
	for tick, reps := range rec.ran(after) {
		if len(reps) > 1 {
			t.Errorf("tick %v ran %d times", tick, len(reps))
		}
		for _, r := range reps {
			top = max(top, r.FencingToken)
		}
	}
	return top
}

func checkCancelledInTime(t *testing.T, c cancel) {
	t.Helper()
	if !errors.Is(c.cause, locks.ErrLeaseLost) {
		t.Errorf("handler cancelled with %v, want ErrLeaseLost", c.cause)
	}
	// The trust window ends a margin before the earliest moment the
	// server could let the lease go.
	if limit := c.trustEnd.Add(locks.SafetyMargin(time.Second)); !c.at.Before(limit) {
		t.Errorf("cancelled at %v, after the lease could have expired on the server (%v)", c.at, limit)
	}
	if c.pttl == -2 {
		t.Errorf("cancelled only after the server had let the lease go")
	}
}

// Redis stops for 10 s and comes back empty.
func TestRedisOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 10 s of outage")
	}
	srv := redistest.Start(t)
	rec := &record{}
	prefix := "outage"
	for i, id := range []string{"a", "b", "c"} {
		startInstance(t, faultClient(t, srv.Addr()), prefix, id, rec, i == 0, nil)
	}
	start := time.Now()
	rec.waitRan(t, start, 3)
	before := checkOnce(t, rec, start)

	srv.Stop()
	down := time.Now()
	checkCancelledInTime(t, rec.waitCancel(t))
	<-time.After(10*time.Second - time.Since(down)) // the outage itself
	srv.Resume()
	up := time.Now()

	rec.waitRan(t, up, 3)
	after := checkOnce(t, rec, up)
	if after <= before {
		t.Errorf("fencing tokens went backwards across the empty restart: %d then %d", before, after)
	}
	rec.mu.Lock()
	failed := 0
	for _, r := range rec.reports {
		if r.Outcome == scheduler.Failed && r.Tick.After(down) && r.Tick.Before(up) {
			failed++
		}
	}
	rec.mu.Unlock()
	if failed == 0 {
		t.Error("no failed run was reported while Redis was down")
	}
	checkOnce(t, rec, start)
}

// proxied returns a direct client of the shared Redis, a test prefix on it,
// and a proxy in front of it that the test can partition or slow down.
func proxied(t *testing.T) (*redis.Client, string, *netproxy.Proxy) {
	direct := redistest.SharedClient(t)
	prefix := redistest.UniquePrefix(t, direct)
	proxy, err := netproxy.Start(redistest.SharedAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	return direct, prefix, proxy
}

// One instance's connection to Redis is blackholed for 5 s.
func TestPartition(t *testing.T) {
	direct, prefix, proxy := proxied(t)
	rec := &record{}
	startInstance(t, faultClient(t, proxy.Addr()), prefix, "a", rec, true, direct)
	startInstance(t, faultClient(t, redistest.SharedAddr()), prefix, "b", rec, false, nil)
	startInstance(t, faultClient(t, redistest.SharedAddr()), prefix, "c", rec, false, nil)
	start := time.Now()
	rec.waitRan(t, start, 3)

	proxy.Blackhole(true)
	cut := time.Now()
	checkCancelledInTime(t, rec.waitCancel(t))
	rec.waitRan(t, cut.Add(time.Second), 3) // b and c carry on
	<-time.After(5*time.Second - time.Since(cut))
	proxy.Blackhole(false)
	healed := time.Now()
	rec.waitRan(t, healed, 3)
	checkOnce(t, rec, start)
}

// Latency close to the TTL: while renewals still land inside the trust
// window the lease is kept; once they cannot, it is given up before the
// server lets it go.
func TestSlowRedis(t *testing.T) {
	direct, prefix, proxy := proxied(t)
	c := redis.NewClient(&redis.Options{Addr: proxy.Addr(), MaxRetries: -1, ReadTimeout: 5 * time.Second,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	defer c.Close()
	l := redislocks.New(c, prefix)
	const ttl = time.Second

	// Connect first: a new connection's handshake takes several round
	// trips, which at this latency would alone use up a trust window.
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	// Load the scripts as the provider does at start: on a fresh server the
	// first EVALSHA of each script would cost a second round trip
	// (NOSCRIPT, then EVAL), which at this latency alone outlasts a window.
	if err := l.Preload(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 150 ms each way: a 300 ms round trip, inside the 900 ms window.
	proxy.SetLatency(150 * time.Millisecond)
	err := l.WithLease(context.Background(), "slow", locks.Options{TTL: ttl}, func(ctx context.Context, lease locks.Lease) error {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(3 * ttl):
			return nil
		}
	})
	if err != nil {
		t.Fatalf("lease lost although renewals arrived in time: %v", err)
	}

	// 1.5 s each way: no renewal can confirm within the window.
	var cause error
	var pttl time.Duration
	err = l.WithLease(context.Background(), "slow2", locks.Options{TTL: ttl}, func(ctx context.Context, lease locks.Lease) error {
		proxy.SetLatency(1500 * time.Millisecond)
		<-ctx.Done()
		cause = context.Cause(ctx)
		pttl, _ = direct.PTTL(context.Background(), l.LeaseKey("slow2")).Result()
		return nil
	})
	proxy.SetLatency(0)
	if !errors.Is(cause, locks.ErrLeaseLost) || !errors.Is(err, locks.ErrLeaseLost) {
		t.Fatalf("cause %v, err %v; want ErrLeaseLost", cause, err)
	}
	if pttl <= 0 {
		t.Fatalf("given up only after the server let the lease go (PTTL %v)", pttl)
	}
}
