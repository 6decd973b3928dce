package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/metrics"
)

// flakyLocks is memory locks whose renewals fail with an error while down
// is set, as when the backend is unreachable.
type flakyLocks struct {
	*locks.Memory
	down    atomic.Bool
	renewed chan struct{} // receives at each Renew, if anyone listens
}

func (f *flakyLocks) Acquire(ctx context.Context, key string, opts locks.Options) (locks.Result, error) {
	if f.down.Load() {
		return locks.Result{}, errors.New("backend down")
	}
	res, err := f.Memory.Acquire(ctx, key, opts)
	if res.Acquired {
		res.Lease = flakyLease{res.Lease, f}
	}
	return res, err
}

type flakyLease struct {
	locks.Lease
	f *flakyLocks
}

func (l flakyLease) Renew(ctx context.Context, ttl time.Duration) (bool, error) {
	select {
	case l.f.renewed <- struct{}{}:
	default:
	}
	if l.f.down.Load() {
		return false, errors.New("backend down")
	}
	return l.Lease.Renew(ctx, ttl)
}

// Renewals that fail count as renewal failures; the lease is then lost
// (counted once); readiness fails only once the failures have lasted longer
// than the lease's TTL, and recovers as soon as the backend answers again.
func TestRenewalFailures(t *testing.T) {
	clock := clockwork.NewFakeClock()
	flaky := &flakyLocks{Memory: locks.NewMemory(locks.WithClock(clock)), renewed: make(chan struct{}, 100)}
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckRenewals(context.Background()); err != nil {
		t.Fatalf("nothing instrumented yet: %v", err)
	}
	l := m.Instrument(flaky, clock, "flaky")
	if _, ok := l.(locks.Inspector); !ok {
		t.Error("the instrumented memory adapter lost its Inspect")
	}
	if ls, ok := l.(locks.Lister); !ok {
		t.Error("the instrumented memory adapter lost its List (the admin page's leases view)")
	} else if _, err := ls.List(context.Background(), "*"); err != nil {
		t.Errorf("List through the instrumentation: %v", err)
	}
	var gotLease locks.Lease
	done := make(chan error, 1)
	go func() {
		done <- l.WithLease(context.Background(), "k", locks.Options{TTL: 3 * time.Second}, func(c context.Context, lease locks.Lease) error {
			gotLease = lease
			flaky.down.Store(true)
			<-c.Done()
			return nil
		})
	}()
	// Renewals at 1 s, then retried every 333 ms until the trust window
	// ends at 2.7 s.
	start := clock.Now()
	// The clock does not pass 1.1 s before the first renewal has been
	// made: a starved renewal goroutine must not see the window closed.
	renewedOnce := false
	err = stepUntil(t, clock, 100*time.Millisecond, done, func() {
		if !renewedOnce && clock.Since(start) >= time.Second {
			select {
			case <-flaky.renewed:
			case <-time.After(20 * time.Second):
				t.Fatal("no renewal by 1 s")
			}
			renewedOnce = true
		}
	})
	if !errors.Is(err, locks.ErrLeaseLost) {
		t.Fatalf("WithLease = %v, want ErrLeaseLost", err)
	}
	if _, ok := gotLease.(flakyLease); !ok {
		t.Errorf("fn got a %T, want the adapter's own lease", gotLease)
	}
	failures := testutil.ToFloat64(prometheusCounter(t, reg, metrics.NameLeaseRenewFailures))
	if failures < 1 {
		t.Errorf("%v renewal failures, want at least the first", failures)
	}
	if err := testutil.CollectAndCompare(reg, strings.NewReader(`
# HELP beignet_lease_lost_total Leases lost by their holder: WithLease stopped fn because ownership could no longer be trusted, or a Renew or Release found the lease gone (expired or someone else's).
# TYPE beignet_lease_lost_total counter
beignet_lease_lost_total{backend="flaky"} 1
`), metrics.NameLeaseLost); err != nil {
		t.Error(err)
	}
	// The first renewal was due at 1 s; its failure was recorded when it
	// came back, at the latest by the end of the trust window (2.7 s) plus
	// one step. Readiness holds for one TTL (3 s) from then.
	clock.Advance(start.Add(time.Second + 3*time.Second - time.Millisecond).Sub(clock.Now()))
	if err := m.CheckRenewals(context.Background()); err != nil {
		t.Errorf("failing for less than one TTL: %v", err)
	}
	clock.Advance(start.Add(2800*time.Millisecond + 3*time.Second + time.Millisecond).Sub(clock.Now()))
	if err := m.CheckRenewals(context.Background()); !errors.Is(err, metrics.ErrRenewalsFailing) {
		t.Errorf("failing for longer than one TTL: CheckRenewals = %v, want ErrRenewalsFailing", err)
	}
	// An acquire that errors is no answer; one that succeeds is.
	if _, err := l.Acquire(context.Background(), "k", locks.Options{TTL: time.Second}); err == nil {
		t.Fatal("acquire on a down backend succeeded")
	}
	if err := m.CheckRenewals(context.Background()); err == nil {
		t.Error("a failed acquire ended the failure streak")
	}
	flaky.down.Store(false)
	res, err := l.Acquire(context.Background(), "k", locks.Options{TTL: time.Second})
	if err != nil || !res.Acquired {
		t.Fatalf("acquire after recovery: %+v, %v", res, err)
	}
	if err := m.CheckRenewals(context.Background()); err != nil {
		t.Errorf("backend answers again: CheckRenewals = %v", err)
	}
}

// stepUntil advances clock by step each time a timer is armed on it, until
// done delivers; before each step it calls before.
func stepUntil(t *testing.T, clock *clockwork.FakeClock, step time.Duration, done <-chan error, before func()) error {
	t.Helper()
	for {
		armed := make(chan error, 1)
		bctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		go func() { armed <- clock.BlockUntilContext(bctx, 1) }()
		select {
		case err := <-done:
			cancel()
			<-armed
			return err
		case err := <-armed:
			cancel()
			if err != nil {
				t.Fatalf("waiting for a timer: %v", err)
			}
			before()
			clock.Advance(step)
		}
	}
}

func prometheusCounter(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: name})
			var sum float64
			for _, mm := range mf.GetMetric() {
				sum += mm.GetCounter().GetValue()
			}
			c.Add(sum)
			return c
		}
	}
	t.Fatalf("%s not gathered", name)
	return nil
}

// The decorator keeps the adapter's optional capabilities, so the admin
// page still lists leases and the startup line still warns about memory.
func TestInstrumentKeepsCapabilities(t *testing.T) {
	m, err := metrics.New(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mem := locks.NewMemory()
	l := m.Instrument(mem, nil, "")
	res, err := l.Acquire(ctx, "report:render", locks.Options{TTL: time.Minute})
	if err != nil || !res.Acquired {
		t.Fatal(res, err)
	}
	lister, ok := l.(locks.Lister)
	if !ok {
		t.Fatal("instrumented memory locks are not a Lister")
	}
	if infos, err := lister.List(ctx, "report:*"); err != nil || len(infos) != 1 || infos[0].Key != "report:render" {
		t.Errorf("List = %+v, %v", infos, err)
	}
	if _, held, err := l.(locks.Inspector).Inspect(ctx, "report:render"); err != nil || !held {
		t.Errorf("Inspect: held %v, %v", held, err)
	}
	if s := fmt.Sprint(l); !strings.Contains(s, "this process only") {
		t.Errorf("String() = %q, want the memory warning kept", s)
	}
	// An adapter with neither capability gets neither.
	bare := m.Instrument(struct{ locks.Locks }{mem}, nil, "plain")
	if _, ok := bare.(locks.Lister); ok {
		t.Error("a plain adapter became a Lister")
	}
	if _, ok := bare.(locks.Inspector); ok {
		t.Error("a plain adapter became an Inspector")
	}
	if u, ok := bare.(interface{ Unwrap() locks.Locks }); !ok || u.Unwrap() == nil {
		t.Error("no Unwrap on the decorator")
	}
}

func TestBackendName(t *testing.T) {
	mem := locks.NewMemory()
	m, err := metrics.New(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		l    locks.Locks
		want string
	}{
		{mem, "memory"},
		{m.Instrument(mem, nil, ""), "memory"},
		{&flakyLocks{Memory: mem}, "metrics_test"},
	} {
		if got := metrics.BackendName(tc.l); got != tc.want {
			t.Errorf("BackendName(%T) = %q, want %q", tc.l, got, tc.want)
		}
	}
}

// Leases used without WithLease are counted lost when their own Renew or
// Release finds them gone, once per lease; a Renew or Release after the
// holder's own Release, and a lease WithLease lost (counted by WithLease),
// are not counted again.
func TestLeaseLostWithoutWithLease(t *testing.T) {
	clock := clockwork.NewFakeClock()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	l := m.Instrument(locks.NewMemory(locks.WithClock(clock)), clock, "")
	ctx := context.Background()
	lost := func() float64 {
		t.Helper()
		return testutil.ToFloat64(prometheusCounter(t, reg, metrics.NameLeaseLost))
	}
	acquire := func(key string) locks.Lease {
		t.Helper()
		res, err := l.Acquire(ctx, key, locks.Options{TTL: time.Second})
		if err != nil || !res.Acquired {
			t.Fatalf("acquire %q: %+v, %v", key, res, err)
		}
		return res.Lease
	}

	// A lease released in time is no loss, nor is renewing it afterwards.
	fine := acquire("fine")
	if err := fine.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := fine.Renew(ctx, 0); ok || err != nil {
		t.Fatalf("Renew after Release = %v, %v", ok, err)
	}
	if got := lost(); got != 0 {
		t.Fatalf("lost = %v after a clean release, want 0", got)
	}

	// Expired, then renewed: Renew reports false and the loss counts once,
	// however often the holder retries or releases.
	renewed := acquire("renewed")
	released := acquire("released")
	clock.Advance(2 * time.Second)
	for range 2 {
		if ok, err := renewed.Renew(ctx, 0); ok || err != nil {
			t.Fatalf("Renew of an expired lease = %v, %v", ok, err)
		}
	}
	_ = renewed.Release(ctx)
	if got := lost(); got != 1 {
		t.Errorf("lost = %v after Renew found the lease gone, want 1", got)
	}
	// Expired and taken over, then released: Release finds it gone.
	acquire("released") // someone else's now
	if err := released.Release(ctx); err != nil {
		t.Fatal(err)
	}
	_ = released.Release(ctx)
	if got := lost(); got != 2 {
		t.Errorf("lost = %v after Release found the lease someone else's, want 2", got)
	}

	// A WithLease whose lease expires under it is counted once, by
	// WithLease, although its Renew and Release also find it gone.
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- l.WithLease(ctx, "held", locks.Options{TTL: 3 * time.Second}, func(c context.Context, _ locks.Lease) error {
			close(stop)
			<-c.Done()
			return nil
		})
	}()
	<-stop
	// Jump past the lease's expiry in one step: the renewal at 1 s then
	// finds it gone.
	blockUntilArmed(t, clock)
	clock.Advance(5 * time.Second)
	if err := <-done; !errors.Is(err, locks.ErrLeaseLost) {
		t.Fatalf("WithLease = %v, want ErrLeaseLost", err)
	}
	if got := lost(); got != 3 {
		t.Errorf("lost = %v after WithLease lost its lease, want 3", got)
	}
}

func blockUntilArmed(t *testing.T, clock *clockwork.FakeClock) {
	t.Helper()
	bctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(bctx, 1); err != nil {
		t.Fatalf("waiting for a timer: %v", err)
	}
}
