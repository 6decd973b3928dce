package redislocks_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// infoInt reads one integer field of INFO section.
func infoInt(t *testing.T, c *redis.Client, section, field string) int {
	t.Helper()
	info, err := c.Info(context.Background(), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s: %v", field, err)
			}
			return n
		}
	}
	return 0
}

// calls is how many times the server ran cmd (INFO commandstats; scripts'
// inner commands count too).
func calls(t *testing.T, c *redis.Client, cmd string) int {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	return statCalls(info, cmd)
}

// statCalls reads cmd's call count from INFO commandstats.
func statCalls(info, cmd string) int {
	_, rest, ok := strings.Cut(info, "cmdstat_"+cmd+":calls=")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
	return n
}

func channelOf(l *redislocks.Locks, key string) string { return l.LeaseKey(key) + ":released" }

type waitResult struct {
	key string
	res locks.Result
	err error
}

// startWaiter waits for key in a goroutine and reports on out.
func startWaiter(ctx context.Context, l *redislocks.Locks, key string, out chan<- waitResult) {
	go func() {
		res, err := l.Acquire(ctx, key, locks.Options{TTL: time.Minute, Wait: time.Minute})
		out <- waitResult{key, res, err}
	}()
}

// 1,000 waiters on distinct keys share one pub/sub connection, and a
// release wakes only its own key's waiter.
func TestThousandWaitersShareOneSubscription(t *testing.T) {
	const n = 1000
	srv := redistest.Start(t)
	obs := srv.Client()
	defer obs.Close()
	// A pool of two is all 1,000 waiters need: their retries are batched
	// into at most two pipelines, and the subscription is one more
	// connection, outside the pool.
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 2})
	defer c.Close()
	l := redislocks.New(c, "many")
	ctx := context.Background()
	// Load the release script, so that its EVALSHA-then-EVAL does not
	// count below.
	_ = mustAcquire(t, l, "warm", locks.Options{TTL: time.Minute}).Release(ctx)

	held := make([]locks.Lease, n)
	var wg sync.WaitGroup
	for i := range held {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := l.Acquire(ctx, "k"+strconv.Itoa(i), locks.Options{TTL: time.Minute})
			if err != nil || !res.Acquired {
				t.Errorf("holder %d: %+v, %v", i, res, err)
				return
			}
			held[i] = res.Lease
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// The holders ran as concurrently as the waiters will, so the pool
	// is as warm as it gets; what the waiters add is the subscription.
	// The observer checks the leases below with a pipeline, which go-redis
	// sends on a connection of its own pipeline pool: open it now, so that
	// it is not counted as the waiters'.
	if _, err := obs.Pipelined(ctx, func(p redis.Pipeliner) error { p.Ping(ctx); return nil }); err != nil {
		t.Fatal(err)
	}
	before := infoInt(t, obs, "clients", "connected_clients")

	out := make(chan waitResult, n)
	for i := 0; i < n; i++ {
		startWaiter(ctx, l, "k"+strconv.Itoa(i), out)
	}
	eventually(t, "every waiter to subscribe", func() bool {
		chans, err := obs.PubSubChannels(ctx, "*").Result()
		return err == nil && len(chans) == n
	})
	// Each waiter's retry after the subscription marks its lease.
	eventually(t, "every waiter to retry once subscribed", func() bool {
		cmds, _ := obs.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := 0; i < n; i++ {
				p.HExists(ctx, l.LeaseKey("k"+strconv.Itoa(i)), "w")
			}
			return nil
		})
		for _, cmd := range cmds {
			if !cmd.(*redis.BoolCmd).Val() {
				return false
			}
		}
		return true
	})
	during := infoInt(t, obs, "clients", "connected_clients")
	subs := 0
	for _, line := range strings.Split(obs.ClientList(ctx).Val(), "\n") {
		if strings.Contains(line, " sub=") && !strings.Contains(line, " sub=0 ") {
			subs++
		}
	}
	if subs != 1 {
		t.Errorf("%d waiters use %d subscribed connections, want 1", n, subs)
	}
	// Issue 17's bound: at most 2 more connections, however many wait.
	// Every script goes out as a pipeline (at most two in flight) on the
	// connections the holders warmed, so the subscription is the only
	// one the waiters should add.
	if extra := during - before; extra > 2 {
		t.Errorf("%d waiters took %d extra connections (%d → %d), want at most 2: the subscription and one of slack\n%s", n, extra, before, during, obs.ClientList(ctx).Val())
	}
	t.Logf("connected_clients: %d before, %d with %d waiters", before, during, n)

	// Release one key: its waiter, and no one else, runs the script again.
	evals := calls(t, obs, "evalsha") + calls(t, obs, "eval")
	if err := held[7].Release(ctx); err != nil {
		t.Fatal(err)
	}
	var first waitResult
	select {
	case first = <-out:
	case <-time.After(10 * time.Second):
		t.Fatal("the released key's waiter was not woken")
	}
	if first.key != "k7" || first.err != nil || !first.res.Acquired {
		t.Fatalf("first to return: %+v, want k7 acquired", first)
	}
	// The release, and the woken waiter's retry.
	if got := calls(t, obs, "evalsha") + calls(t, obs, "eval") - evals; got > 2 {
		t.Errorf("one release caused %d script runs, want 2: other keys' waiters were woken", got)
	}
	_ = first.res.Lease.Release(ctx)

	for i, h := range held {
		if i != 7 {
			_ = h.Release(ctx)
		}
	}
	for i := 1; i < n; i++ {
		r := <-out
		if r.err != nil || !r.res.Acquired {
			t.Fatalf("waiter %s: %+v, %v", r.key, r.res, r.err)
		}
		_ = r.res.Lease.Release(ctx)
	}
	eventually(t, "the subscription to close once nobody waits", func() bool {
		chans, err := obs.PubSubChannels(ctx, "*").Result()
		return err == nil && len(chans) == 0
	})
}

// A release that nobody waits for publishes nothing; one that somebody
// waits for publishes once.
func TestPublishOnlyWhenWaited(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	defer c.Close()
	l := redislocks.New(c, "pub")
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := mustAcquire(t, l, "k", locks.Options{TTL: time.Minute}).Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := calls(t, c, "publish"); got != 0 {
		t.Fatalf("releases without waiters published %d times", got)
	}
	held := mustAcquire(t, l, "k", locks.Options{TTL: time.Minute})
	out := make(chan waitResult, 1)
	startWaiter(ctx, l, "k", out)
	eventually(t, "the waiter to mark the lease", func() bool {
		return c.HExists(ctx, l.LeaseKey("k"), "w").Val()
	})
	if err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-out
	if r.err != nil || !r.res.Acquired {
		t.Fatalf("waiter: %+v, %v", r.res, r.err)
	}
	if got := calls(t, c, "publish"); got != 1 {
		t.Fatalf("a release with a waiter published %d times, want 1", got)
	}
	_ = r.res.Lease.Release(ctx)
	if got := calls(t, c, "publish"); got != 1 {
		t.Fatalf("a release after the waiter got the key published again (%d)", got)
	}
}

// The shared subscription's connection is killed while a waiter waits and
// the key is released at the same moment: the waiter still gets the key
// long before the holder's TTL, so no wake-up was lost.
func TestWaiterSurvivesSubscriptionReconnect(t *testing.T) {
	srv := redistest.Start(t)
	obs := srv.Client()
	defer obs.Close()
	c := srv.Client()
	defer c.Close()
	l := redislocks.New(c, "reconnect")
	ctx := context.Background()
	for round := 0; round < 5; round++ {
		held := mustAcquire(t, l, "k", locks.Options{TTL: time.Minute})
		out := make(chan waitResult, 1)
		startWaiter(ctx, l, "k", out)
		eventually(t, "the waiter to mark the lease", func() bool {
			return obs.HExists(ctx, l.LeaseKey("k"), "w").Val()
		})
		if err := obs.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
			t.Fatal(err)
		}
		if err := held.Release(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-out:
			if r.err != nil || !r.res.Acquired {
				t.Fatalf("round %d: waiter %+v, %v", round, r.res, r.err)
			}
			_ = r.res.Lease.Release(ctx)
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: wake-up lost across the reconnect", round)
		}
	}
}

// Cancelling one waiter leaves the others on the same key waiting, and
// each of them is handed the key in turn.
func TestCancelOneWaiterOthersKeepWaiting(t *testing.T) {
	c := newClient(t)
	l := redislocks.New(c, uniquePrefix(t, c))
	ctx := context.Background()
	held := mustAcquire(t, l, "k", locks.Options{TTL: time.Minute})

	cctx, cancel := context.WithCancel(ctx)
	cancelled := make(chan waitResult, 1)
	startWaiter(cctx, l, "k", cancelled)
	out := make(chan waitResult, 2)
	startWaiter(ctx, l, "k", out)
	startWaiter(ctx, l, "k", out)
	eventually(t, "three waiters on one subscription", func() bool {
		return c.HExists(ctx, l.LeaseKey("k"), "w").Val()
	})
	cancel()
	if r := <-cancelled; !errors.Is(r.err, context.Canceled) || r.res.Acquired {
		t.Fatalf("cancelled waiter: %+v, %v", r.res, r.err)
	}
	// The channel must still be subscribed for the two others.
	if n := c.PubSubNumSub(ctx, channelOf(l, "k")).Val()[channelOf(l, "k")]; n != 1 {
		t.Fatalf("after one cancel the channel has %d subscribers, want 1 (shared)", n)
	}
	next := held
	for i := 0; i < 2; i++ {
		if err := next.Release(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-out:
			if r.err != nil || !r.res.Acquired {
				t.Fatalf("waiter %d: %+v, %v", i, r.res, r.err)
			}
			next = r.res.Lease
		case <-time.After(10 * time.Second):
			t.Fatalf("waiter %d not woken after the cancel of another", i)
		}
	}
	_ = next.Release(ctx)
}
