// Package locks defines the lease port that Beignet runs all coordination
// through, plus an in-memory adapter that is both the default backend and the
// test double.
//
// A lease is a lock with an expiry: a holder that crashes stops blocking
// others once its TTL runs out. A lease reduces duplicate work; it does not
// make a side effect safe on its own. The database stays the source of truth,
// and the fencing token of each lease lets that database refuse writes from a
// holder that has lost its lease without knowing it.
package locks

import (
	"context"
	"time"
)

// Locks hands out leases on string keys. Every backend (memory, Redis)
// implements the same semantics, which the lockstest package checks.
type Locks interface {
	// Acquire tries to take the lease on key. Acquired=false with a nil error
	// means only that someone else holds it; failures of the backend are
	// returned as errors.
	Acquire(ctx context.Context, key string, opts Options) (Result, error)

	// WithLease acquires key (honouring opts.Wait), runs fn while renewing
	// the lease in the background, and releases it when fn returns or
	// panics. If ownership is lost, fn's context is cancelled with cause
	// ErrLeaseLost. When the key is held by someone else the error wraps
	// ErrNotAcquired.
	WithLease(ctx context.Context, key string, opts Options, fn func(ctx context.Context, lease Lease) error) error
}

// Options configures one acquisition.
type Options struct {
	// TTL is how long the lease lives without a renewal. Required, > 0
	// and at most MaxTTL.
	TTL time.Duration
	// Wait is how long Acquire waits for the current holder to let go.
	// 0 tries once; at most MaxWait.
	Wait time.Duration
	// Metadata is stored with the lease so that an operator can see who
	// holds a key (at most 64 entries and 8 KiB in total).
	Metadata map[string]string
}

// Result is the outcome of Acquire.
type Result struct {
	// Acquired reports whether the caller now holds the lease.
	Acquired bool
	// Lease is the held lease; nil unless Acquired.
	Lease Lease
}

// Lease is one acquisition of a key.
type Lease interface {
	// Key is the key the lease is held on.
	Key() string
	// FencingToken strictly increases per key across every acquisition.
	// Pass it to the store you write to, so that it can refuse writes from
	// a holder whose lease has since been taken over.
	FencingToken() uint64
	// Metadata is a copy of the metadata stored with the lease.
	Metadata() map[string]string
	// ExpiresAt is the end of the holder's local trust window: the latest
	// moment the holder may still assume it owns the key. It lies a safety
	// margin before the backend's expiry. Release ends the window at once.
	ExpiresAt() time.Time
	// Renew extends the lease by ttl (0: the lease's own TTL). It reports
	// false with a nil error once the lease has expired, been released or
	// been taken by another holder; an error means ownership could not be
	// confirmed. It never revives an expired lease.
	Renew(ctx context.Context, ttl time.Duration) (bool, error)
	// Release gives the key up. It is idempotent and never disturbs a
	// holder that acquired the key after this lease expired. From the
	// moment it is called the holder stops trusting the lease (ExpiresAt
	// is no later than then) and Renew reports false, even if a renewal
	// running at the same time reached the backend first.
	Release(ctx context.Context) error
}

// LeaseInfo describes a live lease as the backend sees it.
type LeaseInfo struct {
	// Key is the key the lease is held on.
	Key string
	// FencingToken is the token handed to the holder.
	FencingToken uint64
	// Metadata is what the holder stored with the lease.
	Metadata map[string]string
	// AcquiredAt is when the backend granted the lease (zero if the backend
	// does not record it).
	AcquiredAt time.Time
	// ExpiresAt is when the backend will let someone else take the key,
	// unless the holder renews first.
	ExpiresAt time.Time
}

// LossNotifier is implemented by adapters that can tell a holder's Renew
// or Release found its lease gone. Metrics count lost leases with it, also
// for leases used without WithLease.
type LossNotifier interface {
	// NotifyLoss makes the adapter call f, once per lease, when a Renew or
	// Release of one of its leases finds the lease gone from the backend:
	// expired, deleted or now someone else's. Renew or Release after the
	// holder's own Release reports nothing. f runs synchronously in the
	// Renew or Release call, so it must be quick and must not call back
	// into the adapter. Every f registered is called; there is no way to
	// remove one.
	NotifyLoss(f func(key string, fencingToken uint64))
}

// Inspector is implemented by backends that can show who holds a key.
type Inspector interface {
	// Inspect returns the live lease on key, or ok=false when none is held.
	Inspect(ctx context.Context, key string) (info LeaseInfo, ok bool, err error)
}
