package locks

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
)

// RenewalNotifier is implemented by adapters that can tell when renewals
// of their leases fail to reach the backend, and when the backend answers
// again. A readiness check (package health) subscribes to it, so that an
// app sees failing renewals with no metrics and no wrapper around every
// lease.
type RenewalNotifier interface {
	// NotifyRenewal makes the adapter call f:
	//   - with Err set, each time a Renew of one of its leases fails
	//     because the backend could not be reached or did not answer (not
	//     when the Renew's own ctx had ended, nor for an invalid TTL);
	//   - with Err nil, once, the first time the backend answers anything
	//     (an Acquire, Renew or Release) after such failures. A backend
	//     that answers is reachable again, even if no lease is left to
	//     renew.
	// Calls are made one at a time, in the order of the adapter's state
	// changes, and synchronously in the adapter's call, so f must be quick
	// and must not call back into the adapter. Every f registered is
	// called; there is no way to remove one. An adapter whose backend
	// cannot fail (Memory) never calls f.
	NotifyRenewal(f func(RenewalEvent))
}

// RenewalEvent is what a RenewalNotifier reports.
type RenewalEvent struct {
	// Key and FencingToken name the lease whose renewal failed; empty when
	// the backend answers again.
	Key          string
	FencingToken uint64
	// TTL is the TTL the failed renewal asked for.
	TTL time.Duration
	// Err is why the renewal failed; nil when the backend answers again.
	Err error
	// At is when it happened, on the adapter's clock.
	At time.Time
}

// RenewalHooks is the bookkeeping behind a RenewalNotifier, for adapters:
// NotifyRenewal calls Add, a Renew that could not reach the backend calls
// Failed, and every answer from the backend calls Answered, which costs one
// atomic load unless renewals had been failing. The zero value is ready.
type RenewalHooks struct {
	failing atomic.Bool // a failure was reported and no answer since

	// mu orders the calls to the hooks: a recovery reported before the
	// failure it follows would leave subscribers failing for good.
	mu    sync.Mutex
	hooks []func(RenewalEvent)
}

// Add registers f (RenewalNotifier.NotifyRenewal).
func (h *RenewalHooks) Add(f func(RenewalEvent)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hooks = append(h.hooks, f)
}

// Failed reports a renewal that could not reach the backend. ev.Err must
// not be nil.
func (h *RenewalHooks) Failed(ev RenewalEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failing.Store(true)
	for _, f := range h.hooks {
		f(ev)
	}
}

// Answered reports that the backend answered a call: the first answer
// after failures is reported as the backend's recovery, at clock's time.
func (h *RenewalHooks) Answered(clock clockwork.Clock) {
	if h.failing.Load() {
		h.recovered(clock)
	}
}

func (h *RenewalHooks) recovered(clock clockwork.Clock) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.failing.Load() {
		return // another answer reported it first
	}
	h.failing.Store(false)
	ev := RenewalEvent{At: clock.Now()}
	for _, f := range h.hooks {
		f(ev)
	}
}
