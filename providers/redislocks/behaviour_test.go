package redislocks_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/beignet-go/beignet/internal/netproxy"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/locks/lockstest"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// roundTrips counts the commands a client sends (a pipeline counts once).
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}

func TestOneRoundTripPerAcquireAndRelease(t *testing.T) {
	c := newClient(t)
	var rt roundTrips
	c.AddHook(&rt)
	l := redislocks.New(c, uniquePrefix(t, c))
	ctx := context.Background()
	opts := locks.Options{TTL: time.Minute, Metadata: map[string]string{"host": "a"}}
	// The first call of each script may need EVALSHA then EVAL; warm up.
	mustAcquire(t, l, "warm", opts).Release(ctx)

	for i := 0; i < 10; i++ {
		before := rt.n.Load()
		lease := mustAcquire(t, l, "k", opts)
		if got := rt.n.Load() - before; got != 1 {
			t.Fatalf("uncontended Acquire took %d round trips, want 1", got)
		}
		before = rt.n.Load()
		if err := lease.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rt.n.Load() - before; got != 1 {
			t.Fatalf("Release took %d round trips, want 1", got)
		}
	}
}

// Two instances, each with its own client, contend for one key.
func TestTwoInstances(t *testing.T) {
	ca, cb := newClient(t), newClient(t)
	prefix := uniquePrefix(t, ca)
	a, b := redislocks.New(ca, prefix), redislocks.New(cb, prefix)
	ctx := context.Background()

	la := mustAcquire(t, a, "job", locks.Options{TTL: time.Minute})
	if res, err := b.Acquire(ctx, "job", locks.Options{TTL: time.Minute}); err != nil || res.Acquired {
		t.Fatalf("b acquired a's key: %+v, %v", res, err)
	}

	// Hand-off: b waits; a's release wakes it.
	got := make(chan locks.Result, 1)
	go func() {
		res, err := b.Acquire(ctx, "job", locks.Options{TTL: 300 * time.Millisecond, Wait: time.Minute})
		if err != nil {
			t.Error(err)
		}
		got <- res
	}()
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	var lb locks.Lease
	select {
	case res := <-got:
		if !res.Acquired {
			t.Fatal("b not acquired after a's release")
		}
		lb = res.Lease
	case <-time.After(10 * time.Second):
		t.Fatal("b not woken by a's release")
	}
	if lb.FencingToken() <= la.FencingToken() {
		t.Fatalf("b's token %d not above a's %d", lb.FencingToken(), la.FencingToken())
	}

	// Stale release: b's lease expires, a takes the key again, and b's late
	// release must not free a's lease.
	eventually(t, "b's lease to expire", func() bool {
		_, ok, err := a.Inspect(ctx, "job")
		return err == nil && !ok
	})
	la2 := mustAcquire(t, a, "job", locks.Options{TTL: time.Minute})
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if lost := lb.(*redislocks.Lease).Lost(); lost != redislocks.TakenOver {
		t.Errorf("b's stale lease Lost() = %v, want taken over", lost)
	}
	if ok, err := la2.Renew(ctx, 0); !ok || err != nil {
		t.Fatalf("a's lease disturbed by b's stale release: %v, %v", ok, err)
	}
	if ok, err := lb.Renew(ctx, 0); ok || err != nil {
		t.Fatalf("b renewed a's lease: %v, %v", ok, err)
	}
}

func TestRedisDownIsAnError(t *testing.T) {
	c := redis.NewClient(&redis.Options{
		Addr:                     "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t)),
		MaxRetries:               -1,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	defer c.Close()
	l := redislocks.New(c, "x")
	for _, wait := range []time.Duration{0, time.Second} {
		res, err := l.Acquire(context.Background(), "k", locks.Options{TTL: time.Second, Wait: wait})
		if err == nil || res.Acquired {
			t.Fatalf("Acquire with Redis down = %+v, %v; want an error", res, err)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("error %v does not wrap the cause (ECONNREFUSED)", err)
		}
	}
	err := l.WithLease(context.Background(), "k", locks.Options{TTL: time.Second}, func(context.Context, locks.Lease) error { return nil })
	if err == nil || errors.Is(err, locks.ErrNotAcquired) {
		t.Fatalf("WithLease with Redis down = %v; want an infrastructure error, not ErrNotAcquired", err)
	}
}

// Tokens come from Redis's clock, so a restart with no data cannot send them
// backwards.
func TestFencingSurvivesEmptyRestart(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	defer c.Close()
	l := redislocks.New(c, "restart")
	before := mustAcquire(t, l, "k", locks.Options{TTL: time.Minute})
	srv.Restart()
	var after locks.Lease
	eventually(t, "an acquire after the restart", func() bool {
		res, err := l.Acquire(context.Background(), "k", locks.Options{TTL: time.Minute})
		if err == nil && res.Acquired {
			after = res.Lease
		}
		return after != nil
	})
	if after.FencingToken() <= before.FencingToken() {
		t.Fatalf("token after an empty restart %d, want > %d", after.FencingToken(), before.FencingToken())
	}
	// The restart lost the lease and someone (us) has the key again: the
	// old lease reports that it was taken over, not that it expired.
	if ok, err := before.Renew(context.Background(), 0); ok || err != nil {
		t.Fatalf("Renew of the lease lost in the restart = %v, %v", ok, err)
	}
	if lost := before.(*redislocks.Lease).Lost(); lost != redislocks.TakenOver {
		t.Errorf("Lost() = %v, want taken over", lost)
	}
	_ = after.Release(context.Background())
	if ok, _ := before.Renew(context.Background(), 0); ok {
		t.Fatal("revived a lost lease")
	}
	if lost := before.(*redislocks.Lease).Lost(); lost != redislocks.Expired {
		t.Errorf("Lost() with the key gone = %v, want expired", lost)
	}
}

// A key nobody uses any more leaves nothing behind once its fence expires,
// and tokens still rise afterwards.
func TestIdleKeyLeavesNothing(t *testing.T) {
	c := newClient(t)
	prefix := uniquePrefix(t, c)
	l := redislocks.New(c, prefix, redislocks.WithFenceTTL(200*time.Millisecond))
	ctx := context.Background()
	first := mustAcquire(t, l, "k", locks.Options{TTL: time.Minute})
	_ = first.Release(ctx)
	eventually(t, "the idle key's state to expire", func() bool {
		keys, err := c.Keys(ctx, "{"+prefix+"|*").Result()
		return err == nil && len(keys) == 0
	})
	again := mustAcquire(t, l, "k", locks.Options{TTL: time.Minute})
	if again.FencingToken() <= first.FencingToken() {
		t.Fatalf("token after the fence expired %d, want > %d", again.FencingToken(), first.FencingToken())
	}
	_ = again.Release(ctx)
}

// When Redis stops answering mid-run, fn's ctx is cancelled before the key
// could expire on the server, so no one else can be running yet.
func TestConnectionLossCancelsBeforeServerExpiry(t *testing.T) {
	direct := newClient(t)
	proxy, err := netproxy.Start(redisAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	c := redis.NewClient(&redis.Options{
		Addr:                     proxy.Addr(),
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	defer c.Close()
	prefix := uniquePrefix(t, direct)
	l := redislocks.New(c, prefix)
	observer := redislocks.New(direct, prefix)

	var cause error
	var pttlAtCancel time.Duration
	err = l.WithLease(context.Background(), "k", locks.Options{TTL: time.Second}, func(ctx context.Context, _ locks.Lease) error {
		proxy.Blackhole(true)
		<-ctx.Done()
		cause = context.Cause(ctx)
		pttlAtCancel, _ = direct.PTTL(context.Background(), observer.LeaseKey("k")).Result()
		proxy.Blackhole(false)
		return nil
	})
	if !errors.Is(cause, locks.ErrLeaseLost) || !errors.Is(err, locks.ErrLeaseLost) {
		t.Fatalf("cause %v, err %v; want ErrLeaseLost", cause, err)
	}
	if pttlAtCancel <= 0 {
		t.Fatalf("fn cancelled only after the key expired on the server (PTTL %v)", pttlAtCancel)
	}
}

// The conformance suite passes unchanged on a 3-master Redis Cluster.
func TestClusterConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	addrs := redistest.StartCluster(t, 3)
	c := redistest.ClusterClient(addrs)
	defer c.Close()
	lockstest.Run(t, func(t *testing.T) lockstest.Harness { return harness(t, c) })
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-time.After(5 * time.Millisecond)
	}
}
