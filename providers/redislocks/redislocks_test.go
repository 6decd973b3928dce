package redislocks_test

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/locks/lockstest"
	"github.com/beignet-go/beignet/providers/redislocks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// redisAddr is the shared test server, which `make test` starts.
func redisAddr() string {
	if a := os.Getenv("BEIGNET_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// newClient connects to the shared test server.
func newClient(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:                     redisAddr(),
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at %s: %v (make test starts it)", redisAddr(), err)
	}
	return c
}

// uniquePrefix isolates a test's keys on the shared server and deletes them
// afterwards; nothing else on the server is touched.
func uniquePrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	p := "beignet-test:" + rand.Text()[:12]
	t.Cleanup(func() { deletePrefix(c, p) })
	return p
}

func deletePrefix(c redis.UniversalClient, prefix string) {
	ctx := context.Background()
	del := func(c redis.UniversalClient) {
		iter := c.Scan(ctx, 0, "{"+prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { del(n); return nil })
		return
	}
	del(c)
}

// harness runs the conformance suite on client with a short, real TTL.
func harness(t *testing.T, c redis.UniversalClient) lockstest.Harness {
	l := redislocks.New(c, uniquePrefix(t, c))
	return lockstest.Harness{
		Locks: l,
		TTL:   300 * time.Millisecond,
		// Expiry on a real server takes real time to pass.
		Advance: func(d time.Duration) { <-time.After(d) },
		Expire: func(key string) {
			if err := c.Del(context.Background(), l.LeaseKey(key)).Err(); err != nil {
				t.Errorf("expire %q: %v", key, err)
			}
		},
	}
}

func TestConformance(t *testing.T) {
	c := newClient(t)
	lockstest.Run(t, func(t *testing.T) lockstest.Harness { return harness(t, c) })
}

func mustAcquire(t *testing.T, l locks.Locks, key string, opts locks.Options) locks.Lease {
	t.Helper()
	res, err := l.Acquire(context.Background(), key, opts)
	if err != nil || !res.Acquired {
		t.Fatalf("Acquire(%q) = %+v, %v", key, res, err)
	}
	return res.Lease
}
