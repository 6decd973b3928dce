package locks_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/locks/lockstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemoryConformance(t *testing.T) {
	lockstest.Run(t, func(t *testing.T) lockstest.Harness {
		clock := clockwork.NewFakeClock()
		return lockstest.Harness{
			Locks:   locks.NewMemory(locks.WithClock(clock)),
			TTL:     time.Second,
			Advance: clock.Advance,
			Expire:  func(string) { clock.Advance(time.Second) },
		}
	})
}

func TestMemoryModel(t *testing.T) {
	lockstest.RunModel(t, func(t *testing.T) lockstest.Harness {
		clock := clockwork.NewFakeClock()
		return lockstest.Harness{
			Locks:   locks.NewMemory(locks.WithClock(clock)),
			TTL:     time.Second,
			Advance: clock.Advance,
			Clock:   clock,
		}
	}, lockstest.ModelConfig{Iterations: 100})
}

func TestMemoryLeasesSnapshot(t *testing.T) {
	clock := clockwork.NewFakeClock()
	m := locks.NewMemory(locks.WithClock(clock))
	ctx := context.Background()
	res, err := m.Acquire(ctx, "a", locks.Options{TTL: time.Second, Metadata: map[string]string{"who": "me"}})
	if err != nil || !res.Acquired {
		t.Fatal(res, err)
	}
	if _, err := m.Acquire(ctx, "b", locks.Options{TTL: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}
	snap := m.Leases()
	if len(snap) != 2 || snap["a"].Metadata["who"] != "me" || snap["a"].FencingToken != res.Lease.FencingToken() {
		t.Fatalf("Leases() = %+v", snap)
	}
	if got, want := snap["a"].ExpiresAt, clock.Now().Add(time.Second); !got.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", got, want)
	}
	snap["a"].Metadata["who"] = "changed"
	clock.Advance(2 * time.Second)
	snap = m.Leases()
	if _, ok := snap["a"]; ok || len(snap) != 1 {
		t.Fatalf("after a's expiry Leases() = %+v; want only b", snap)
	}
}

// Keys nobody touches again must not pile up in a long-lived process.
func TestMemoryForgetsExpiredKeys(t *testing.T) {
	clock := clockwork.NewFakeClock()
	m := locks.NewMemory(locks.WithClock(clock))
	ctx := context.Background()
	for i := 0; i < 10_000; i++ {
		if _, err := m.Acquire(ctx, "k"+string(rune('a'+i%26))+time.Duration(i).String(), locks.Options{TTL: time.Second}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Second)
	}
	if n := m.Len(); n > 128 {
		t.Fatalf("%d expired keys still tracked, want at most 128", n)
	}
}
