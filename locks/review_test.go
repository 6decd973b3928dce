package locks_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/locks"
)

// After Release returns, the holder must no longer be told it may trust the
// lease: another instance can take the key at once.
func TestReleasedLeaseIsNotTrusted(t *testing.T) {
	clock := clockwork.NewFakeClock()
	m := locks.NewMemory(locks.WithClock(clock))
	ctx := context.Background()
	res, err := m.Acquire(ctx, "k", locks.Options{TTL: time.Minute})
	if err != nil || !res.Acquired {
		t.Fatalf("acquire: %v %v", res, err)
	}
	if err := res.Lease.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if end := res.Lease.ExpiresAt(); clock.Now().Before(end) {
		t.Fatalf("after Release, ExpiresAt %v is still ahead of now %v", end, clock.Now())
	}
}

// A nil fn is bad input: an error naming it, not a panic with the key held.
func TestWithLeaseNilFn(t *testing.T) {
	m := locks.NewMemory(locks.WithClock(clockwork.NewFakeClock()))
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("WithLease(nil fn) panicked: %v", r)
			}
		}()
		err = m.WithLease(context.Background(), "k", locks.Options{TTL: time.Minute}, nil)
	}()
	if !errors.Is(err, locks.ErrInvalid) {
		t.Fatalf("WithLease(nil fn) = %v, want ErrInvalid", err)
	}
	if _, held, _ := m.Inspect(context.Background(), "k"); held {
		t.Fatal("key still held after WithLease(nil fn)")
	}
}

type strictLocks struct{ locks.Locks }

func (strictLocks) ValidateTTL(ttl time.Duration) error {
	if ttl < time.Second {
		return fmt.Errorf("%w: ttl %v under 1s", locks.ErrInvalidTTL, ttl)
	}
	return nil
}

type decorated struct{ locks.Locks }

func (d decorated) Unwrap() locks.Locks { return d.Locks }

// ValidateTTLFor asks the adapter, also through a decorator (metrics wraps
// the port), and still applies the port's own bounds.
func TestValidateTTLForAsksTheAdapter(t *testing.T) {
	strict := strictLocks{locks.NewMemory()}
	cases := []struct {
		l    locks.Locks
		ttl  time.Duration
		fail bool
	}{
		{strict, time.Millisecond, true},
		{decorated{decorated{strict}}, time.Millisecond, true},
		{decorated{strict}, time.Second, false},
		{locks.NewMemory(), time.Millisecond, false},
		{decorated{locks.NewMemory()}, locks.MaxTTL + 1, true},
		{nil, -1, true},
		{nil, time.Second, false},
	}
	for _, c := range cases {
		err := locks.ValidateTTLFor(c.l, c.ttl)
		if c.fail != (err != nil) || (err != nil && !errors.Is(err, locks.ErrInvalidTTL)) {
			t.Errorf("ValidateTTLFor(%T, %v) = %v, want failure %v wrapping ErrInvalidTTL", c.l, c.ttl, err, c.fail)
		}
	}
}
