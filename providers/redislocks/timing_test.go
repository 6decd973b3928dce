package redislocks_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/beignet-go/beignet/internal/netproxy"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// slowClient talks to the shared Redis through a proxy that delays every
// chunk by latency in each direction.
func slowClient(t *testing.T, latency time.Duration) *redis.Client {
	t.Helper()
	proxy, err := netproxy.Start(redisAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	proxy.SetLatency(latency)
	c := redis.NewClient(&redis.Options{
		Addr:       proxy.Addr(),
		MaxRetries: -1,
		// Without it go-redis waits for the reply whatever ctx says.
		ContextTimeoutEnabled:    true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// An Acquire cancelled while its request is in flight may still be granted
// by Redis. The client knows the owner id, so it releases that lease rather
// than leaving the key blocked for a whole TTL.
func TestCancelledAcquireLeavesNoPhantom(t *testing.T) {
	direct := newClient(t)
	prefix := uniquePrefix(t, direct)
	observer := redislocks.New(direct, prefix)
	if err := observer.Preload(context.Background()); err != nil {
		t.Fatal(err)
	}
	slow := slowClient(t, 60*time.Millisecond)
	l := redislocks.New(slow, prefix)
	// A pooled connection, so that the deadline meets the acquire itself
	// rather than the connection's handshake.
	if err := slow.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	res, err := l.Acquire(ctx, "k", locks.Options{TTL: time.Minute})
	if err == nil || res.Acquired {
		t.Fatalf("Acquire with a 20 ms deadline over a 120 ms round trip = %+v, %v; want an error", res, err)
	}
	// The request did reach Redis (it set the fence), and yet the key is
	// free long before its minute is up.
	eventually(t, "the in-flight acquire to land", func() bool {
		n, err := direct.Exists(context.Background(), observer.LeaseKey("k")+":fence").Result()
		return err == nil && n == 1
	})
	eventually(t, "the phantom lease to be released", func() bool {
		_, held, err := observer.Inspect(context.Background(), "k")
		return err == nil && !held
	})
	lease := mustAcquire(t, observer, "k", locks.Options{TTL: time.Minute})
	_ = lease.Release(context.Background())
}

// A reply that arrives after the lease's trust window has ended is not a
// lease the caller may act on: Acquire says so, and WithLease never runs fn.
func TestLateReplyIsNotALease(t *testing.T) {
	direct := newClient(t)
	prefix := uniquePrefix(t, direct)
	l := redislocks.New(slowClient(t, 100*time.Millisecond), prefix)
	opts := locks.Options{TTL: 200 * time.Millisecond} // a 150 ms window; the round trip is 200 ms
	res, err := l.Acquire(context.Background(), "k", opts)
	if res.Acquired || !errors.Is(err, locks.ErrLeaseLost) {
		t.Fatalf("Acquire with a reply past the window = %+v, %v; want ErrLeaseLost", res, err)
	}
	err = l.WithLease(context.Background(), "k2", opts, func(context.Context, locks.Lease) error {
		t.Error("fn ran on a lease whose window had closed")
		return nil
	})
	if !errors.Is(err, locks.ErrLeaseLost) {
		t.Fatalf("WithLease = %v; want ErrLeaseLost", err)
	}
}

// stallRenew holds back the reply of the renewal whose TTL argument is
// stall, after Redis has applied it, until release is closed or a while
// has passed.
type stallRenew struct {
	stall   string
	applied chan struct{}
	release chan struct{}
}

func (s *stallRenew) DialHook(next redis.DialHook) redis.DialHook { return next }

// Scripts go out as pipelines (of one, for a lone caller).
func (s *stallRenew) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			s.hold(cmd)
		}
		return err
	}
}
func (s *stallRenew) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		s.hold(cmd)
		return err
	}
}

func (s *stallRenew) hold(cmd redis.Cmder) {
	args := cmd.Args()
	if len(args) == 6 && fmt.Sprint(args[len(args)-1]) == s.stall {
		close(s.applied)
		select {
		case <-s.release:
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// Two renewals at once: Redis applies the long one first and the short one
// second, but the long one's reply comes back last. The holder must not
// trust the long window, which Redis no longer grants.
func TestConcurrentRenewsNeverTrustPastTheServer(t *testing.T) {
	direct := newClient(t)
	prefix := uniquePrefix(t, direct)
	c := newClient(t)
	hook := &stallRenew{stall: "60000", applied: make(chan struct{}), release: make(chan struct{})}
	c.AddHook(hook)
	l := redislocks.New(c, prefix)
	ctx := context.Background()
	lease := mustAcquire(t, l, "k", locks.Options{TTL: 2 * time.Second})
	defer lease.Release(ctx)

	long := make(chan error, 1)
	go func() {
		ok, err := lease.Renew(ctx, time.Minute)
		if err == nil && !ok {
			err = errors.New("not renewed")
		}
		long <- err
	}()
	<-hook.applied
	ok, err := lease.Renew(ctx, time.Second)
	close(hook.release)
	if err != nil || !ok {
		t.Fatalf("short Renew = %v, %v", ok, err)
	}
	if err := <-long; err != nil {
		t.Fatalf("long Renew: %v", err)
	}
	pttl, err := direct.PTTL(ctx, l.LeaseKey("k")).Result()
	serverExpiry := time.Now().Add(pttl) // an upper bound: PTTL was read before now
	if err != nil || pttl <= 0 {
		t.Fatalf("PTTL = %v, %v", pttl, err)
	}
	if got := lease.ExpiresAt(); got.After(serverExpiry) {
		t.Fatalf("holder trusts its lease until %v, %v past Redis's expiry", got, got.Sub(serverExpiry))
	}
}

// holdAcquire holds back the acquire script on key's lease until a
// release of the same lease comes through (the reorder this guards
// against) or a while has passed, after cancelling the acquiring caller.
type holdAcquire struct {
	lease, fence string
	cancel       context.CancelFunc
	released     chan struct{} // closed when a release of lease is sent
	overtaken    chan bool     // whether a release went out while the acquire was held
	releaseOnce  sync.Once
}

func (h *holdAcquire) classify(cmds []redis.Cmder) (acquire, release bool) {
	for _, c := range cmds {
		a := c.Args()
		if len(a) < 5 || (a[0] != "evalsha" && a[0] != "eval") {
			continue
		}
		acquire = acquire || (a[3] == h.lease && a[4] == h.fence)
		release = release || (a[3] == h.lease && a[4] != h.fence)
	}
	return acquire, release
}

func (h *holdAcquire) gate(cmds []redis.Cmder) {
	acquire, release := h.classify(cmds)
	if release {
		h.releaseOnce.Do(func() { close(h.released) })
	}
	if !acquire {
		return
	}
	h.cancel()
	// Waiting for something that must not happen: a release while the
	// acquire it undoes has not reached Redis. The bound is how long a
	// release sent at once would take to come through here.
	select {
	case <-h.released:
		h.overtaken <- true
	case <-time.After(300 * time.Millisecond):
		h.overtaken <- false
	}
}

func (h *holdAcquire) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *holdAcquire) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.gate([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}
func (h *holdAcquire) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.gate(cmds)
		return next(ctx, cmds)
	}
}

// The clean-up of an acquire cancelled in flight goes out only after the
// acquire's reply. With two pipelines in flight on two connections, a
// release sent at once can reach Redis first, find nothing, and leave the
// acquire's lease to live out its TTL.
func TestCancelledAcquireReleasedAfterItsReply(t *testing.T) {
	direct := newClient(t)
	prefix := uniquePrefix(t, direct)
	observer := redislocks.New(direct, prefix)
	if err := observer.Preload(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: redisAddr(), MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &holdAcquire{lease: observer.LeaseKey("k"), fence: observer.LeaseKey("k") + ":fence", cancel: cancel,
		released: make(chan struct{}), overtaken: make(chan bool, 1)}
	c.AddHook(h)
	l := redislocks.New(c, prefix)
	res, err := l.Acquire(ctx, "k", locks.Options{TTL: time.Minute})
	if err == nil || res.Acquired {
		t.Fatalf("Acquire cancelled in flight = %+v, %v; want an error", res, err)
	}
	if <-h.overtaken {
		t.Error("the clean-up release went out before the acquire it undoes")
	}
	// Acquire returns once its clean-up is done: the key is free now, not
	// in a minute.
	if lease, held, err := observer.Inspect(context.Background(), "k"); err != nil || held {
		t.Fatalf("after the cancelled acquire: %+v held %v (%v); want the key free", lease, held, err)
	}
}
