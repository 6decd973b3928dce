package locks

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Memory is the in-memory Locks adapter: the default backend of an app with
// no provider, and the test double. Leases expire by its clock, so a
// clockwork.FakeClock's Advance expires them. It is safe for concurrent use
// and coordinates only goroutines of one process.
type Memory struct {
	clock clockwork.Clock

	mu      sync.Mutex
	held    map[string]*memLease
	waiters map[string]chan struct{} // closed when the key's holder lets go
	// One counter for all keys keeps tokens strictly increasing per key
	// without remembering anything about keys that are no longer held. It
	// is at least the clock in µs, so a restarted process does not hand
	// out tokens a store has already seen.
	token     uint64
	sweepAt   int                              // len(held) at which expired leases are next swept out
	lossHooks []func(key string, token uint64) // see NotifyLoss
	renewals  RenewalHooks                     // see NotifyRenewal; never fired
}

// minSweepAt is the fewest held leases at which a sweep of expired ones
// runs. Below it a sweep would cost more than the few stale entries it
// frees; above it sweeps run when the map has doubled.
const minSweepAt = 64

// MemoryOption configures NewMemory.
type MemoryOption func(*Memory)

// WithClock makes the adapter read time from clock (default: the real clock).
func WithClock(clock clockwork.Clock) MemoryOption {
	return func(m *Memory) { m.clock = clock }
}

// NewMemory returns an empty in-memory adapter.
func NewMemory(opts ...MemoryOption) *Memory {
	m := &Memory{
		clock:   clockwork.NewRealClock(),
		held:    make(map[string]*memLease),
		waiters: make(map[string]chan struct{}),
		sweepAt: minSweepAt,
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

var (
	_ Locks           = (*Memory)(nil)
	_ Inspector       = (*Memory)(nil)
	_ LossNotifier    = (*Memory)(nil)
	_ RenewalNotifier = (*Memory)(nil)
)

// NotifyRenewal implements RenewalNotifier. An in-process backend always
// answers, so f is never called; health's renewal check then always
// passes, which is the truth.
func (m *Memory) NotifyRenewal(f func(RenewalEvent)) { m.renewals.Add(f) }

// NotifyLoss implements LossNotifier.
func (m *Memory) NotifyLoss(f func(key string, fencingToken uint64)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lossHooks = append(m.lossHooks, f)
}

// lostLocked marks l lost and returns the hooks to tell: once per lease,
// and never after the holder's own Release. The caller calls them after
// unlocking, so that a hook cannot deadlock on m.mu.
func (l *memLease) lostLocked() []func(string, uint64) {
	if l.released || l.lost {
		return nil
	}
	l.lost = true
	return l.m.lossHooks
}

func (l *memLease) notify(hooks []func(string, uint64)) {
	for _, f := range hooks {
		f(l.key, l.token)
	}
}

// Acquire implements Locks.
func (m *Memory) Acquire(ctx context.Context, key string, opts Options) (Result, error) {
	if err := Validate(key, opts); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	var waitUntil time.Time
	if opts.Wait > 0 {
		waitUntil = m.clock.Now().Add(opts.Wait)
	}
	for {
		l, wake, holderExpiry := m.try(key, opts)
		if l != nil {
			// On the real clock a TTL of a few µs can be over by now; a
			// lease whose trust window is empty is no lease at all.
			if now, end := m.clock.Now(), l.ExpiresAt(); !now.Before(end) {
				_ = l.Release(ctx)
				return Result{}, fmt.Errorf("%w: %q: the trust window of ttl %v (minus a safety margin of %v) ended before Acquire returned",
					ErrLeaseLost, key, opts.TTL, SafetyMargin(opts.TTL))
			}
			return Result{Acquired: true, Lease: l}, nil
		}
		now := m.clock.Now()
		if opts.Wait == 0 || !now.Before(waitUntil) {
			return Result{}, nil
		}
		// Sleep until the holder releases (wake is closed), its lease
		// expires, or our wait runs out, whichever comes first.
		until := waitUntil
		if holderExpiry.Before(until) {
			until = holderExpiry
		}
		t := m.clock.NewTimer(until.Sub(now))
		select {
		case <-wake:
		case <-t.Chan():
		case <-ctx.Done():
			t.Stop()
			return Result{}, ctx.Err()
		}
		t.Stop()
	}
}

// try takes key if it is free. If it is held, it returns the channel that
// will be closed when the holder lets go, and the holder's expiry.
func (m *Memory) try(key string, opts Options) (*memLease, <-chan struct{}, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	if cur, ok := m.held[key]; ok {
		if now.Before(cur.expiry) {
			wake, ok := m.waiters[key]
			if !ok {
				wake = make(chan struct{})
				m.waiters[key] = wake
			}
			cur.waited = true
			return nil, wake, cur.expiry
		}
		m.dropLocked(key)
	}
	m.token = nextToken(m.token, now)
	l := &memLease{
		m:          m,
		key:        key,
		token:      m.token,
		ttl:        opts.TTL,
		acquiredAt: now,
		expiry:     now.Add(opts.TTL),
		trustEnd:   TrustWindowEnd(now, opts.TTL),
	}
	if len(opts.Metadata) > 0 {
		l.md = maps.Clone(opts.Metadata)
	}
	m.held[key] = l
	if len(m.held) >= m.sweepAt {
		m.sweepLocked(now)
	}
	return l, nil, time.Time{}
}

// nextToken is max(last+1, now in µs), as Redis's tokens are: the counter
// keeps tokens rising within a microsecond and across a backwards clock
// step, the clock keeps them rising across a restart of the process.
func nextToken(last uint64, now time.Time) uint64 {
	next := last + 1
	if us := now.UnixMicro(); us > 0 && uint64(us) > next {
		next = uint64(us)
	}
	return next
}

// dropLocked removes key's holder and wakes its waiters. m.mu must be held.
func (m *Memory) dropLocked(key string) {
	l := m.held[key]
	delete(m.held, key)
	// Most leases are never waited for; skip the second map lookup then.
	if l == nil || !l.waited {
		return
	}
	if wake, ok := m.waiters[key]; ok {
		close(wake)
		delete(m.waiters, key)
	}
}

// sweepLocked forgets expired leases, so that keys nobody asks about again do
// not pile up. It runs when the map has doubled since the last sweep, which
// keeps its cost amortised O(1) per acquisition.
func (m *Memory) sweepLocked(now time.Time) {
	for k, l := range m.held {
		if !now.Before(l.expiry) {
			m.dropLocked(k)
		}
	}
	m.sweepAt = max(2*len(m.held), minSweepAt)
}

// WithLease implements Locks.
func (m *Memory) WithLease(ctx context.Context, key string, opts Options, fn func(ctx context.Context, lease Lease) error) error {
	return RunWithLease(ctx, m.clock, m, key, opts, fn)
}

// Leases returns a snapshot of the live leases by key. Expired leases are
// left out (and forgotten).
func (m *Memory) Leases() map[string]LeaseInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	out := make(map[string]LeaseInfo, len(m.held))
	for k, l := range m.held {
		if !now.Before(l.expiry) {
			m.dropLocked(k)
			continue
		}
		out[k] = l.infoLocked()
	}
	return out
}

// Inspect implements Inspector.
func (m *Memory) Inspect(_ context.Context, key string) (LeaseInfo, bool, error) {
	if err := ValidateKey(key); err != nil {
		return LeaseInfo{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.held[key]
	if !ok || !m.clock.Now().Before(l.expiry) {
		return LeaseInfo{}, false, nil
	}
	return l.infoLocked(), true, nil
}

// memLease is one acquisition. Ownership is pointer identity: the lease owns
// the key while m.held[key] is this very value and it has not expired.
type memLease struct {
	m          *Memory
	key        string
	token      uint64
	ttl        time.Duration
	md         map[string]string
	acquiredAt time.Time

	// guarded by m.mu
	expiry   time.Time
	trustEnd time.Time
	waited   bool // someone is waiting for this lease to end
	released bool // the holder called Release
	lost     bool // a Renew or Release found it gone (reported once)
}

func (l *memLease) infoLocked() LeaseInfo {
	return LeaseInfo{Key: l.key, FencingToken: l.token, Metadata: maps.Clone(l.md), AcquiredAt: l.acquiredAt, ExpiresAt: l.expiry}
}

// Key implements Lease.
func (l *memLease) Key() string { return l.key }

// FencingToken implements Lease.
func (l *memLease) FencingToken() uint64 { return l.token }

// Metadata implements Lease.
func (l *memLease) Metadata() map[string]string { return maps.Clone(l.md) }

// ExpiresAt implements Lease.
func (l *memLease) ExpiresAt() time.Time {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	return l.trustEnd
}

// Renew implements Lease.
func (l *memLease) Renew(ctx context.Context, ttl time.Duration) (bool, error) {
	if ttl == 0 {
		ttl = l.ttl
	}
	if err := ValidateTTL(ttl); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m := l.m
	m.mu.Lock()
	now := m.clock.Now()
	if m.held[l.key] != l || !now.Before(l.expiry) {
		hooks := l.lostLocked()
		m.mu.Unlock()
		l.notify(hooks)
		return false, nil
	}
	l.expiry = now.Add(ttl)
	l.trustEnd = TrustWindowEnd(now, ttl)
	m.mu.Unlock()
	return true, nil
}

// Release implements Lease. The trust window ends with it: the key may be
// someone else's the moment it returns.
func (l *memLease) Release(context.Context) error {
	m := l.m
	m.mu.Lock()
	now := m.clock.Now()
	if now.Before(l.trustEnd) {
		l.trustEnd = now
	}
	var hooks []func(string, uint64)
	holder := m.held[l.key]
	if holder != l || !now.Before(l.expiry) {
		hooks = l.lostLocked()
	}
	l.released = true
	if holder == l {
		m.dropLocked(l.key)
	}
	m.mu.Unlock()
	l.notify(hooks)
	return nil
}
