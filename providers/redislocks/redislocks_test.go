package redislocks_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/locks/lockstest"
	"github.com/beignet-go/beignet/providers/redislocks"

	"github.com/beignet-go/beignet/internal/testserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testserver.Main(m)) }

func redisAddr() string { return redistest.SharedAddr() }

func newClient(t testing.TB) *redis.Client { return redistest.SharedClient(t) }

func uniquePrefix(t testing.TB, c redis.UniversalClient) string {
	return redistest.UniquePrefix(t, c)
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

// The model check on the real server: short real TTLs, so that expiry is
// crossed by waiting.
func TestModel(t *testing.T) {
	c := newClient(t)
	lockstest.RunModel(t, func(t *testing.T) lockstest.Harness {
		h := harness(t, c)
		h.TTL = 200 * time.Millisecond
		return h
	}, lockstest.ModelConfig{Iterations: 8, Steps: 15})
}

func mustAcquire(t *testing.T, l locks.Locks, key string, opts locks.Options) locks.Lease {
	t.Helper()
	res, err := l.Acquire(context.Background(), key, opts)
	if err != nil || !res.Acquired {
		t.Fatalf("Acquire(%q) = %+v, %v", key, res, err)
	}
	return res.Lease
}
