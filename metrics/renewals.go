package metrics

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
)

// ErrRenewalsFailing is wrapped by CheckRenewals's error.
var ErrRenewalsFailing = errors.New("metrics: lease renewals failing")

// renewals remembers the current streak of failed renewals: from the first
// failure after the backend last answered, until it answers again.
type renewals struct {
	failing atomic.Bool // a streak is on: lets answered skip the lock

	mu    sync.Mutex
	clock clockwork.Clock // the instrumented adapter's
	since time.Time       // start of the streak; zero when none
	ttl   time.Duration   // TTL of the lease whose renewal began it
	count int
}

func (r *renewals) failed(now time.Time, ttl time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.since.IsZero() {
		r.since, r.ttl = now, ttl
	}
	r.count++
	r.failing.Store(true)
}

// answered ends a streak: the backend confirmed or refused something, so
// it is reachable again. The common case is one atomic load, inlined into
// the caller.
func (r *renewals) answered() {
	if r.failing.Load() {
		r.endStreak()
	}
}

func (r *renewals) endStreak() {
	r.mu.Lock()
	r.since, r.ttl, r.count = time.Time{}, 0, 0
	r.failing.Store(false)
	r.mu.Unlock()
}

func (r *renewals) setClock(c clockwork.Clock) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clock = c
}

func (r *renewals) check() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.clock == nil {
		return nil // nothing instrumented, so nothing renewed
	}
	now := r.clock.Now()
	if r.since.IsZero() || now.Sub(r.since) <= r.ttl {
		return nil
	}
	return fmt.Errorf("%w: %d failures in a row since %v ago, longer than the lease TTL %v",
		ErrRenewalsFailing, r.count, now.Sub(r.since).Round(time.Millisecond), r.ttl)
}

// CheckRenewals returns an error wrapping ErrRenewalsFailing while lease
// renewals through an instrumented Locks have been failing for longer than
// one TTL of the lease whose renewal failed first, with no answer from the
// backend since. It is meant for readiness checks (health.Check's Func).
func (m *Metrics) CheckRenewals(context.Context) error { return m.renewals.check() }
