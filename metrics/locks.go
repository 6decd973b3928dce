package metrics

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/beignet-go/beignet/locks"
)

// Locks decorates a locks.Locks with lease metrics. It keeps the port's
// semantics: WithLease runs locks.RunWithLease on the decorated adapter's
// Acquire, as the adapters do themselves. Unwrap returns the adapter, for
// code that needs its concrete type.
type Locks struct {
	inner    locks.Locks
	clock    clockwork.Clock
	backend  string
	renewals *renewals
	// instantTry: a single try (Wait 0) completes in-process, far below
	// the histogram's first bucket (100 µs), so it is observed as 0 rather
	// than paying two clock reads, which would double its cost.
	instantTry bool

	acquired, notAcquired, failed *acquireSeries
	lost, renewFailed             prometheus.Counter

	// inWithLease holds the leases (key and fencing token) WithLease is
	// running fn under: WithLease counts their loss itself, once, so the
	// adapter's loss report for them is not counted again.
	wlMu        sync.Mutex
	inWithLease map[leaseID]struct{}
}

// leaseID names one acquisition: a fencing token is never reused for a key.
type leaseID struct {
	key   string
	token uint64
}

// adapterLost counts a lease the adapter found gone on Renew or Release
// (locks.LossNotifier), unless WithLease is counting it.
func (l *Locks) adapterLost(key string, token uint64) {
	l.wlMu.Lock()
	_, ok := l.inWithLease[leaseID{key, token}]
	l.wlMu.Unlock()
	if !ok {
		l.lost.Inc()
	}
}

// Instrument returns l with lease metrics labelled backend ("" picks a name
// from l's type: "memory", "redis", else its package). clock must be the
// one l runs on (nil: the real clock).
func (m *Metrics) Instrument(l locks.Locks, clock clockwork.Clock, backend string) locks.Locks {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	if backend == "" {
		backend = BackendName(l)
	}
	m.renewals.setClock(clock)
	_, inProcess := l.(*locks.Memory)
	d := &Locks{
		inner: l, clock: clock, backend: backend, renewals: m.renewals, instantTry: inProcess,
		acquired:    m.acquire.with(backend, "true"),
		notAcquired: m.acquire.with(backend, "false"),
		failed:      m.acquire.with(backend, "error"),
		lost:        m.leaseLost.WithLabelValues(backend),
		renewFailed: m.renewFailures.WithLabelValues(backend),
		inWithLease: map[leaseID]struct{}{},
	}
	// Leases used without WithLease are lost when their own Renew or
	// Release finds them gone; only the adapter sees that without a
	// wrapper (and its allocation) on every acquired lease.
	if n, ok := l.(locks.LossNotifier); ok {
		n.NotifyLoss(d.adapterLost)
	}
	// Keep the adapter's optional capabilities visible to type checks
	// (the admin page lists leases through locks.Lister).
	_, inspects := l.(locks.Inspector)
	_, lists := l.(locks.Lister)
	switch {
	case inspects && lists:
		return inspectingListingLocks{d}
	case inspects:
		return inspectingLocks{d}
	case lists:
		return listingLocks{d}
	}
	return d
}

// BackendName is the backend label of l: "memory" for the in-memory
// adapter, "redis" for the Redis provider, else the name of l's package.
func BackendName(l locks.Locks) string {
	if u, ok := l.(interface{ Unwrap() locks.Locks }); ok {
		return BackendName(u.Unwrap())
	}
	if _, ok := l.(*locks.Memory); ok {
		return "memory"
	}
	t := reflect.TypeOf(l)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.PkgPath() == "" {
		return "unknown"
	}
	pkg := t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]
	if pkg == "redislocks" {
		return "redis"
	}
	return pkg
}

// Unwrap returns the decorated adapter.
func (l *Locks) Unwrap() locks.Locks { return l.inner }

// String describes the decorated adapter, for startup logs.
func (l *Locks) String() string {
	switch inner := l.inner.(type) {
	case fmt.Stringer:
		return inner.String() + ", instrumented"
	case *locks.Memory:
		return "memory (this process only), instrumented"
	}
	return l.backend + ", instrumented"
}

// Acquire implements locks.Locks, timing the call, Wait included.
func (l *Locks) Acquire(ctx context.Context, key string, opts locks.Options) (locks.Result, error) {
	if l.instantTry && opts.Wait == 0 {
		res, err := l.inner.Acquire(ctx, key, opts)
		switch {
		case err != nil && !givenUp(ctx, err):
			l.failed.observeZero()
		case err != nil:
			l.notAcquired.observeZero()
		case res.Acquired:
			l.acquired.observeZero()
			l.renewals.answered()
		default:
			l.notAcquired.observeZero()
			l.renewals.answered()
		}
		return res, err
	}
	start := l.clock.Now()
	res, err := l.inner.Acquire(ctx, key, opts)
	took := l.clock.Since(start).Seconds()
	switch {
	case err != nil && !givenUp(ctx, err):
		l.failed.observe(took)
	case err != nil:
		l.notAcquired.observe(took)
	case res.Acquired:
		l.acquired.observe(took)
		l.renewals.answered()
	default:
		l.notAcquired.observe(took)
		l.renewals.answered()
	}
	return res, err
}

// givenUp reports whether an acquire failed only because its caller
// cancelled ctx (stopping, or no longer interested): the lease was not
// acquired, and the backend did not fail, so it is no acquired="error".
// A deadline is left an error: it also ends a round trip to a backend
// that has gone silent.
func givenUp(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) && errors.Is(ctx.Err(), context.Canceled)
}

// WithLease implements locks.Locks. Renewals of the lease are counted, and
// a lease lost while fn ran is counted once.
func (l *Locks) WithLease(ctx context.Context, key string, opts locks.Options, fn func(ctx context.Context, lease locks.Lease) error) error {
	err := locks.RunWithLease(ctx, l.clock, renewing{l}, key, opts, func(c context.Context, held locks.Lease) error {
		// fn gets the adapter's own lease, whose concrete type some
		// callers check (redislocks' Lost).
		return fn(c, held.(*lease).Lease)
	})
	if errors.Is(err, locks.ErrLeaseLost) {
		l.lost.Inc()
	}
	return err
}

// renewing is the adapter as WithLease's renewer sees it: its leases count
// their renewals, and are known as WithLease's until RunWithLease releases
// them (it always does).
type renewing struct{ l *Locks }

func (r renewing) Acquire(ctx context.Context, key string, opts locks.Options) (locks.Result, error) {
	res, err := r.l.Acquire(ctx, key, opts)
	if res.Acquired {
		id := leaseID{key, res.Lease.FencingToken()}
		r.l.wlMu.Lock()
		r.l.inWithLease[id] = struct{}{}
		r.l.wlMu.Unlock()
		res.Lease = &lease{Lease: res.Lease, l: r.l, ttl: opts.TTL, id: id}
	}
	return res, err
}

func (r renewing) WithLease(ctx context.Context, key string, opts locks.Options, fn func(ctx context.Context, lease locks.Lease) error) error {
	return r.l.WithLease(ctx, key, opts, fn)
}

// lease counts the renewals WithLease's watchdog makes.
type lease struct {
	locks.Lease
	l   *Locks
	ttl time.Duration
	id  leaseID
}

// Release implements locks.Lease. A loss the adapter reports during it is
// WithLease's to count, so the lease stays registered until it returns.
func (s *lease) Release(ctx context.Context) error {
	err := s.Lease.Release(ctx)
	s.l.wlMu.Lock()
	delete(s.l.inWithLease, s.id)
	s.l.wlMu.Unlock()
	return err
}

func (s *lease) Renew(ctx context.Context, ttl time.Duration) (bool, error) {
	ok, err := s.Lease.Renew(ctx, ttl)
	if err != nil {
		if ctx.Err() == nil {
			// A renewal cancelled because fn returned is no failure.
			s.l.renewFailed.Inc()
			s.l.renewals.failed(s.l.clock.Now(), s.ttl)
		}
		return ok, err
	}
	s.l.renewals.answered()
	return ok, err
}

// inspectingLocks, listingLocks and inspectingListingLocks are Locks over
// an adapter that also implements locks.Inspector, locks.Lister or both.
type (
	inspectingLocks        struct{ *Locks }
	listingLocks           struct{ *Locks }
	inspectingListingLocks struct{ *Locks }
)

func (l *Locks) inspect(ctx context.Context, key string) (locks.LeaseInfo, bool, error) {
	return l.inner.(locks.Inspector).Inspect(ctx, key)
}

func (l *Locks) list(ctx context.Context, pattern string) ([]locks.LeaseInfo, error) {
	return l.inner.(locks.Lister).List(ctx, pattern)
}

// Inspect implements locks.Inspector.
func (l inspectingLocks) Inspect(ctx context.Context, key string) (locks.LeaseInfo, bool, error) {
	return l.inspect(ctx, key)
}

// List implements locks.Lister.
func (l listingLocks) List(ctx context.Context, pattern string) ([]locks.LeaseInfo, error) {
	return l.list(ctx, pattern)
}

// Inspect implements locks.Inspector.
func (l inspectingListingLocks) Inspect(ctx context.Context, key string) (locks.LeaseInfo, bool, error) {
	return l.inspect(ctx, key)
}

// List implements locks.Lister.
func (l inspectingListingLocks) List(ctx context.Context, pattern string) ([]locks.LeaseInfo, error) {
	return l.list(ctx, pattern)
}
