// Package lockstest is the conformance suite for locks.Locks adapters. Every
// backend runs the same cases, so an app can swap memory for Redis without
// its behaviour changing.
//
//	func TestConformance(t *testing.T) {
//		lockstest.Run(t, func(t *testing.T) lockstest.Harness { ... })
//	}
package lockstest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/locks"
)

// Harness is what the suite needs of an adapter.
type Harness struct {
	// Locks is the adapter under test.
	Locks locks.Locks
	// TTL is the lease TTL the cases use. Real servers want it short
	// (a few hundred milliseconds); on a fake clock any value works.
	TTL time.Duration
	// Advance lets d of the adapter's time pass: a fake clock's Advance, or
	// for a real server a wait of d.
	Advance func(d time.Duration)
	// Expire makes the backend forget the current holder of key, as if its
	// TTL had run out, without telling the holder.
	Expire func(key string)
	// Clock is the adapter's clock, which RunModel reads trust windows
	// against (default: the real clock).
	Clock clockwork.Clock
}

// Run runs every case against a fresh harness from newHarness.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	cases := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"AcquireRelease", testAcquireRelease},
		{"BadInput", testBadInput},
		{"FencingMonotonic", testFencingMonotonic},
		{"RenewOwnership", testRenewOwnership},
		{"ReleaseIdempotentAndStale", testReleaseStale},
		{"WaitWokenByRelease", testWaitWokenByRelease},
		{"WaitWokenByExpiry", testWaitWokenByExpiry},
		{"WaitRunsOut", testWaitRunsOut},
		{"WaitCancelled", testWaitCancelled},
		{"Contention", testContention},
		{"WithLease", testWithLease},
		{"WithLeasePanic", testWithLeasePanic},
		{"WithLeaseGoexit", testWithLeaseGoexit},
		{"WithLeaseHeld", testWithLeaseHeld},
		{"WithLeaseRenews", testWithLeaseRenews},
		{"WithLeaseLost", testWithLeaseLost},
		{"Inspect", testInspect},
		{"List", testList},
		{"LossNotified", testLossNotified},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if h.TTL <= 0 {
				h.TTL = time.Second
			}
			c.fn(t, h)
		})
	}
}

// key returns a key private to the running test.
func key(t *testing.T, suffix string) string {
	return t.Name() + ":" + suffix
}

func mustAcquire(t *testing.T, h Harness, k string, opts locks.Options) locks.Lease {
	t.Helper()
	res, err := h.Locks.Acquire(context.Background(), k, opts)
	if err != nil {
		t.Fatalf("Acquire(%q): %v", k, err)
	}
	if !res.Acquired || res.Lease == nil {
		t.Fatalf("Acquire(%q): not acquired (lease %v)", k, res.Lease)
	}
	return res.Lease
}

func mustNotAcquire(t *testing.T, h Harness, k string, opts locks.Options) {
	t.Helper()
	res, err := h.Locks.Acquire(context.Background(), k, opts)
	if err != nil {
		t.Fatalf("Acquire(%q): %v", k, err)
	}
	if res.Acquired || res.Lease != nil {
		t.Fatalf("Acquire(%q) of a held key: acquired", k)
	}
}

func testAcquireRelease(t *testing.T, h Harness) {
	k := key(t, "a")
	md := map[string]string{"owner": "worker-1"}
	l := mustAcquire(t, h, k, locks.Options{TTL: h.TTL, Metadata: md})
	if l.Key() != k {
		t.Errorf("Key() = %q, want %q", l.Key(), k)
	}
	if l.FencingToken() == 0 {
		t.Errorf("FencingToken() = 0, want > 0")
	}
	if got := l.Metadata()["owner"]; got != "worker-1" {
		t.Errorf("Metadata()[owner] = %q, want worker-1", got)
	}
	md["owner"] = "mutated"
	if got := l.Metadata()["owner"]; got != "worker-1" {
		t.Errorf("lease metadata follows the caller's map: %q", got)
	}
	if !l.ExpiresAt().After(time.Time{}) {
		t.Errorf("ExpiresAt() is zero")
	}
	mustNotAcquire(t, h, k, locks.Options{TTL: h.TTL})
	if err := l.Release(context.Background()); err != nil {
		t.Fatalf("Release: %v", err)
	}
	l2 := mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
	if l2.FencingToken() <= l.FencingToken() {
		t.Errorf("token after release %d, want > %d", l2.FencingToken(), l.FencingToken())
	}
	_ = l2.Release(context.Background())
}

func testBadInput(t *testing.T, h Harness) {
	bigMD := map[string]string{}
	for i := 0; i <= locks.MaxMetadataEntries; i++ {
		bigMD[fmt.Sprint("k", i)] = "v"
	}
	fatMD := map[string]string{"blob": strings.Repeat("x", locks.MaxMetadataBytes+1)}
	good := key(t, "good")
	cases := []struct {
		name    string
		key     string
		opts    locks.Options
		want    error
		mention string
	}{
		{"empty key", "", locks.Options{TTL: h.TTL}, locks.ErrInvalidKey, "empty"},
		{"long key", strings.Repeat("k", locks.MaxKeyBytes+1), locks.Options{TTL: h.TTL}, locks.ErrInvalidKey, "1025"},
		{"newline in key", "a\nb", locks.Options{TTL: h.TTL}, locks.ErrInvalidKey, `"a\nb"`},
		{"NUL in key", "a\x00b", locks.Options{TTL: h.TTL}, locks.ErrInvalidKey, `"a\x00b"`},
		{"zero TTL", good, locks.Options{}, locks.ErrInvalidTTL, "0s"},
		{"negative TTL", good, locks.Options{TTL: -time.Second}, locks.ErrInvalidTTL, "-1s"},
		{"negative wait", good, locks.Options{TTL: h.TTL, Wait: -time.Second}, locks.ErrInvalidWait, "-1s"},
		// Rounded to a backend's unit or added to a time, these overflow.
		{"TTL MaxInt64", good, locks.Options{TTL: math.MaxInt64}, locks.ErrInvalidTTL, locks.MaxTTL.String()},
		{"TTL just over MaxTTL", good, locks.Options{TTL: locks.MaxTTL + 1}, locks.ErrInvalidTTL, locks.MaxTTL.String()},
		{"wait MaxInt64", good, locks.Options{TTL: h.TTL, Wait: math.MaxInt64}, locks.ErrInvalidWait, locks.MaxWait.String()},
		{"too many metadata entries", good, locks.Options{TTL: h.TTL, Metadata: bigMD}, locks.ErrInvalidMetadata, "65"},
		{"oversized metadata", good, locks.Options{TTL: h.TTL, Metadata: fatMD}, locks.ErrInvalidMetadata, fmt.Sprint(locks.MaxMetadataBytes + 5)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := h.Locks.Acquire(context.Background(), c.key, c.opts)
			if !errors.Is(err, c.want) || !errors.Is(err, locks.ErrInvalid) {
				t.Fatalf("Acquire err = %v, want %v (and ErrInvalid)", err, c.want)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("error %q does not name the bad value (%s)", err, c.mention)
			}
			if res.Acquired || res.Lease != nil {
				t.Fatalf("bad input acquired a lease")
			}
			werr := h.Locks.WithLease(context.Background(), c.key, c.opts, func(context.Context, locks.Lease) error {
				t.Error("fn ran despite bad input")
				return nil
			})
			if !errors.Is(werr, c.want) {
				t.Errorf("WithLease err = %v, want %v", werr, c.want)
			}
		})
	}
	// Nothing was taken by the rejected calls.
	l := mustAcquire(t, h, good, locks.Options{TTL: h.TTL})
	_ = l.Release(context.Background())
}

func testFencingMonotonic(t *testing.T, h Harness) {
	k := key(t, "f")
	var last uint64
	check := func(l locks.Lease, how string) {
		t.Helper()
		if l.FencingToken() <= last {
			t.Fatalf("token %d after %s, want > %d", l.FencingToken(), how, last)
		}
		last = l.FencingToken()
	}
	for i := 0; i < 20; i++ {
		l := mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
		check(l, "release")
		_ = l.Release(context.Background())
	}
	l := mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
	check(l, "release")
	h.Advance(h.TTL + h.TTL/10)
	l = mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
	check(l, "expiry")
	_ = l.Release(context.Background())
}

func testRenewOwnership(t *testing.T, h Harness) {
	ctx := context.Background()
	k := key(t, "r")
	l := mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
	before := l.ExpiresAt()
	h.Advance(h.TTL / 2)
	ok, err := l.Renew(ctx, 0)
	if err != nil || !ok {
		t.Fatalf("Renew of a live lease = %v, %v; want true, nil", ok, err)
	}
	if !l.ExpiresAt().After(before) {
		t.Errorf("Renew did not move ExpiresAt past %v", before)
	}
	for _, bad := range []time.Duration{-time.Second, locks.MaxTTL + 1, math.MaxInt64} {
		if ok, err := l.Renew(ctx, bad); ok || !errors.Is(err, locks.ErrInvalidTTL) {
			t.Errorf("Renew(%v) = %v, %v; want false, ErrInvalidTTL", bad, ok, err)
		}
	}
	// A rejected renewal leaves the lease as it was: still held.
	mustNotAcquire(t, h, k, locks.Options{TTL: h.TTL})
	// Past expiry: false, and the lease is not revived.
	h.Advance(h.TTL + h.TTL/10)
	ok, err = l.Renew(ctx, 0)
	if err != nil || ok {
		t.Fatalf("Renew after expiry = %v, %v; want false, nil", ok, err)
	}
	// Someone else now holds it: still false, and theirs is untouched.
	other := mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
	ok, err = l.Renew(ctx, 0)
	if err != nil || ok {
		t.Fatalf("Renew of a taken-over lease = %v, %v; want false, nil", ok, err)
	}
	// After release: false.
	_ = other.Release(ctx)
	ok, err = other.Renew(ctx, 0)
	if err != nil || ok {
		t.Fatalf("Renew after release = %v, %v; want false, nil", ok, err)
	}
	l3 := mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
	_ = l3.Release(ctx)
}

func testReleaseStale(t *testing.T, h Harness) {
	ctx := context.Background()
	k := key(t, "s")
	old := mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
	h.Expire(k)
	cur := mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
	for i := 0; i < 2; i++ {
		if err := old.Release(ctx); err != nil {
			t.Fatalf("stale Release: %v", err)
		}
	}
	mustNotAcquire(t, h, k, locks.Options{TTL: h.TTL})
	if ok, err := cur.Renew(ctx, 0); !ok || err != nil {
		t.Fatalf("new holder disturbed by a stale release: Renew = %v, %v", ok, err)
	}
	for i := 0; i < 2; i++ {
		if err := cur.Release(ctx); err != nil {
			t.Fatalf("Release #%d: %v", i+1, err)
		}
	}
	l := mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
	_ = l.Release(ctx)
}

// testLossNotified: an adapter that implements locks.LossNotifier reports
// each lease whose Renew or Release finds it gone exactly once, with its
// key and token, and reports nothing for a lease its holder released first.
func testLossNotified(t *testing.T, h Harness) {
	n, ok := h.Locks.(locks.LossNotifier)
	if !ok {
		t.Skip("the adapter does not implement locks.LossNotifier")
	}
	ctx := context.Background()
	var mu sync.Mutex
	var got []string
	prefix := key(t, "")
	n.NotifyLoss(func(k string, token uint64) {
		if strings.HasPrefix(k, prefix) {
			mu.Lock()
			got = append(got, fmt.Sprintf("%s#%d", k, token))
			mu.Unlock()
		}
	})
	reported := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
	var want []string
	check := func(step string) {
		t.Helper()
		if g := reported(); fmt.Sprint(g) != fmt.Sprint(want) {
			t.Fatalf("after %s: reported %v, want %v", step, g, want)
		}
	}

	kept := mustAcquire(t, h, key(t, "kept"), locks.Options{TTL: h.TTL})
	if ok, err := kept.Renew(ctx, 0); !ok || err != nil {
		t.Fatalf("Renew of a held lease = %v, %v", ok, err)
	}
	if err := kept.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := kept.Renew(ctx, 0); ok || err != nil {
		t.Fatalf("Renew after Release = %v, %v", ok, err)
	}
	_ = kept.Release(ctx)
	check("a lease renewed and released in time")

	k := key(t, "renewed")
	renewed := mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
	h.Expire(k)
	for range 2 {
		if ok, err := renewed.Renew(ctx, 0); ok || err != nil {
			t.Fatalf("Renew of an expired lease = %v, %v", ok, err)
		}
	}
	_ = renewed.Release(ctx)
	want = append(want, fmt.Sprintf("%s#%d", k, renewed.FencingToken()))
	check("renewing an expired lease twice, then releasing it")

	k = key(t, "released")
	released := mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
	h.Expire(k)
	other := mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
	_ = released.Release(ctx)
	_ = released.Release(ctx)
	want = append(want, fmt.Sprintf("%s#%d", k, released.FencingToken()))
	check("releasing a lease someone else now holds, twice")
	if err := other.Release(ctx); err != nil {
		t.Fatal(err)
	}
	check("the new holder's own release")
}

type acquired struct {
	res locks.Result
	err error
}

func acquireAsync(ctx context.Context, h Harness, k string, opts locks.Options) <-chan acquired {
	ch := make(chan acquired, 1)
	go func() {
		res, err := h.Locks.Acquire(ctx, k, opts)
		ch <- acquired{res, err}
	}()
	return ch
}

func testWaitWokenByRelease(t *testing.T, h Harness) {
	k := key(t, "w")
	holder := mustAcquire(t, h, k, locks.Options{TTL: time.Hour})
	// The holder's lease and the wait both outlast the test, and time does
	// not move: only the release itself can wake the waiter.
	ch := acquireAsync(context.Background(), h, k, locks.Options{TTL: h.TTL, Wait: time.Hour})
	select {
	case a := <-ch:
		t.Fatalf("waiter returned while the key was held: %+v", a)
	default:
	}
	_ = holder.Release(context.Background())
	select {
	case a := <-ch:
		if a.err != nil || !a.res.Acquired {
			t.Fatalf("waiter after release = %+v", a)
		}
		if a.res.Lease.FencingToken() <= holder.FencingToken() {
			t.Errorf("waiter token %d, want > %d", a.res.Lease.FencingToken(), holder.FencingToken())
		}
		_ = a.res.Lease.Release(context.Background())
	case <-time.After(10 * time.Second):
		t.Fatal("waiter not woken by release")
	}
}

// advanceUntil advances in steps of d until ch delivers. A step may land
// before the waiter has armed its timer, so one step is not always enough.
func advanceUntil(t *testing.T, h Harness, d time.Duration, ch <-chan acquired) acquired {
	t.Helper()
	for i := 0; i < 200; i++ {
		h.Advance(d)
		select {
		case a := <-ch:
			return a
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("waiter never returned")
	return acquired{}
}

func testWaitWokenByExpiry(t *testing.T, h Harness) {
	k := key(t, "e")
	holder := mustAcquire(t, h, k, locks.Options{TTL: h.TTL})
	ch := acquireAsync(context.Background(), h, k, locks.Options{TTL: h.TTL, Wait: time.Hour})
	a := advanceUntil(t, h, h.TTL/2, ch)
	if a.err != nil || !a.res.Acquired {
		t.Fatalf("waiter after holder expiry = %+v", a)
	}
	if a.res.Lease.FencingToken() <= holder.FencingToken() {
		t.Errorf("token %d, want > %d", a.res.Lease.FencingToken(), holder.FencingToken())
	}
	_ = a.res.Lease.Release(context.Background())
}

func testWaitRunsOut(t *testing.T, h Harness) {
	k := key(t, "o")
	holder := mustAcquire(t, h, k, locks.Options{TTL: time.Hour})
	defer holder.Release(context.Background())
	ch := acquireAsync(context.Background(), h, k, locks.Options{TTL: h.TTL, Wait: h.TTL})
	a := advanceUntil(t, h, h.TTL/2, ch)
	if a.err != nil || a.res.Acquired || a.res.Lease != nil {
		t.Fatalf("wait that ran out = %+v; want Acquired=false, nil error", a)
	}
}

func testWaitCancelled(t *testing.T, h Harness) {
	k := key(t, "c")
	holder := mustAcquire(t, h, k, locks.Options{TTL: time.Hour})
	defer holder.Release(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	ch := acquireAsync(ctx, h, k, locks.Options{TTL: h.TTL, Wait: time.Hour})
	cancel()
	select {
	case a := <-ch:
		if !errors.Is(a.err, context.Canceled) || a.res.Acquired {
			t.Fatalf("cancelled wait = %+v; want context.Canceled", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled waiter did not return")
	}
}

func testContention(t *testing.T, h Harness) {
	const workers = 50
	k := key(t, "x")
	var holders, maxHolders, won atomic.Int64
	var lastToken atomic.Uint64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := h.Locks.Acquire(context.Background(), k, locks.Options{TTL: time.Hour, Wait: time.Hour})
			if err != nil || !res.Acquired {
				errs <- fmt.Errorf("acquire: %v, %v", res.Acquired, err)
				return
			}
			n := holders.Add(1)
			for {
				m := maxHolders.Load()
				if n <= m || maxHolders.CompareAndSwap(m, n) {
					break
				}
			}
			if tok := res.Lease.FencingToken(); tok <= lastToken.Load() {
				errs <- fmt.Errorf("token %d not above the previous holder's %d", tok, lastToken.Load())
			} else {
				lastToken.Store(tok)
			}
			won.Add(1)
			holders.Add(-1)
			if err := res.Lease.Release(context.Background()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if maxHolders.Load() != 1 {
		t.Errorf("max concurrent holders = %d, want 1", maxHolders.Load())
	}
	if won.Load() != workers {
		t.Errorf("%d of %d workers got the lease", won.Load(), workers)
	}
}

func testWithLease(t *testing.T, h Harness) {
	k := key(t, "wl")
	boom := errors.New("boom")
	ran := false
	err := h.Locks.WithLease(context.Background(), k, locks.Options{TTL: h.TTL}, func(ctx context.Context, l locks.Lease) error {
		ran = true
		if l.Key() != k || l.FencingToken() == 0 {
			t.Errorf("lease = %q/%d", l.Key(), l.FencingToken())
		}
		mustNotAcquire(t, h, k, locks.Options{TTL: h.TTL})
		return boom
	})
	if !ran || !errors.Is(err, boom) {
		t.Fatalf("WithLease = %v (ran %v); want fn's error", err, ran)
	}
	l := mustAcquire(t, h, k, locks.Options{TTL: h.TTL}) // released afterwards
	_ = l.Release(context.Background())
}

func testWithLeasePanic(t *testing.T, h Harness) {
	k := key(t, "p")
	func() {
		defer func() {
			if p := recover(); p != "kaboom" {
				t.Fatalf("recovered %v, want the re-panic of kaboom", p)
			}
		}()
		_ = h.Locks.WithLease(context.Background(), k, locks.Options{TTL: h.TTL}, func(context.Context, locks.Lease) error {
			panic("kaboom")
		})
	}()
	l := mustAcquire(t, h, k, locks.Options{TTL: h.TTL}) // released despite the panic
	_ = l.Release(context.Background())
}

// runtime.Goexit (t.FailNow, say) skips recover, but must still stop the
// renewals and release the key. goleak in the adapter's TestMain catches a
// renewer left running.
func testWithLeaseGoexit(t *testing.T, h Harness) {
	k := key(t, "g")
	done := make(chan struct{})
	returned := false
	go func() {
		defer close(done)
		_ = h.Locks.WithLease(context.Background(), k, locks.Options{TTL: time.Hour}, func(context.Context, locks.Lease) error {
			runtime.Goexit()
			return nil
		})
		returned = true
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("WithLease's goroutine did not end after fn called runtime.Goexit")
	}
	if returned {
		t.Fatal("WithLease returned normally although fn called runtime.Goexit")
	}
	l := mustAcquire(t, h, k, locks.Options{TTL: h.TTL}) // released, though the TTL is an hour
	_ = l.Release(context.Background())
}

func testWithLeaseHeld(t *testing.T, h Harness) {
	k := key(t, "h")
	holder := mustAcquire(t, h, k, locks.Options{TTL: time.Hour})
	defer holder.Release(context.Background())
	err := h.Locks.WithLease(context.Background(), k, locks.Options{TTL: h.TTL}, func(context.Context, locks.Lease) error {
		t.Error("fn ran while the key was held")
		return nil
	})
	if !errors.Is(err, locks.ErrNotAcquired) || !strings.Contains(err.Error(), k) {
		t.Fatalf("WithLease on a held key = %v; want ErrNotAcquired naming the key", err)
	}
}

func testWithLeaseRenews(t *testing.T, h Harness) {
	k := key(t, "rn")
	err := h.Locks.WithLease(context.Background(), k, locks.Options{TTL: h.TTL}, func(ctx context.Context, l locks.Lease) error {
		// Hold for three TTLs; each step waits for the background renewal
		// to show up as a later ExpiresAt. On a fake clock the renewer may
		// arm its timer just after a step, so a few small extra steps may
		// be needed; they stay well inside the trust window.
		for i := 0; i < 9; i++ {
			prev := l.ExpiresAt()
			h.Advance(h.TTL / 3)
			for extra := 0; !l.ExpiresAt().After(prev) && ctx.Err() == nil; extra++ {
				if extra == 5 {
					return fmt.Errorf("step %d: no renewal", i)
				}
				select {
				case <-ctx.Done():
				case <-time.After(50 * time.Millisecond):
					h.Advance(h.TTL / 30)
				}
			}
			if ctx.Err() != nil {
				return fmt.Errorf("step %d: %w", i, context.Cause(ctx))
			}
		}
		mustNotAcquire(t, h, k, locks.Options{TTL: h.TTL})
		return nil
	})
	if err != nil {
		t.Fatalf("WithLease across 3 TTLs: %v", err)
	}
}

func testWithLeaseLost(t *testing.T, h Harness) {
	k := key(t, "l")
	var cause error
	err := h.Locks.WithLease(context.Background(), k, locks.Options{TTL: h.TTL}, func(ctx context.Context, l locks.Lease) error {
		h.Expire(k)
		thief := mustAcquire(t, h, k, locks.Options{TTL: time.Hour})
		defer thief.Release(context.Background())
		// Let time pass until the holder's next renewal finds the key
		// taken (a fake clock's renewer may need more than one step).
		for i := 0; ctx.Err() == nil; i++ {
			if i == 100 {
				t.Error("fn's ctx not cancelled after the lease was taken over")
				return nil
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
				h.Advance(h.TTL / 3)
			}
		}
		cause = context.Cause(ctx)
		return nil
	})
	if !errors.Is(cause, locks.ErrLeaseLost) {
		t.Errorf("ctx cause = %v, want ErrLeaseLost", cause)
	}
	if !errors.Is(err, locks.ErrLeaseLost) {
		t.Errorf("WithLease err = %v, want ErrLeaseLost", err)
	}
}

func testInspect(t *testing.T, h Harness) {
	in, ok := h.Locks.(locks.Inspector)
	if !ok {
		t.Skip("adapter does not implement locks.Inspector")
	}
	ctx := context.Background()
	k := key(t, "i")
	if _, ok, err := in.Inspect(ctx, k); ok || err != nil {
		t.Fatalf("Inspect of a free key = %v, %v", ok, err)
	}
	l := mustAcquire(t, h, k, locks.Options{TTL: h.TTL, Metadata: map[string]string{"host": "a"}})
	info, ok, err := in.Inspect(ctx, k)
	if err != nil || !ok {
		t.Fatalf("Inspect of a held key = %v, %v", ok, err)
	}
	if info.Key != k || info.FencingToken != l.FencingToken() || info.Metadata["host"] != "a" {
		t.Errorf("Inspect = %+v; want key %q, token %d, host a", info, k, l.FencingToken())
	}
	if !info.ExpiresAt.After(l.ExpiresAt()) && !info.ExpiresAt.Equal(l.ExpiresAt()) {
		t.Errorf("backend expiry %v before the holder's trust window end %v", info.ExpiresAt, l.ExpiresAt())
	}
	_ = l.Release(ctx)
	if _, ok, _ := in.Inspect(ctx, k); ok {
		t.Errorf("Inspect after release still shows a holder")
	}
}

func testList(t *testing.T, h Harness) {
	ls, ok := h.Locks.(locks.Lister)
	if !ok {
		t.Skip("adapter does not implement locks.Lister")
	}
	ctx := context.Background()
	base := globEscape(key(t, ""))
	list := func(pattern string) string {
		t.Helper()
		infos, err := ls.List(ctx, pattern)
		if err != nil {
			t.Fatalf("List(%q): %v", pattern, err)
		}
		var keys []string
		for _, in := range infos {
			keys = append(keys, strings.TrimPrefix(in.Key, key(t, "")))
		}
		return strings.Join(keys, " ")
	}
	if got := list(base + "*"); got != "" {
		t.Fatalf("List with nothing held = %q", got)
	}
	md := map[string]string{"owner": "<script>alert(1)</script>", "host": "a b"}
	held := map[string]locks.Lease{}
	// Keys with glob and hash-tag characters must list as themselves.
	for _, k := range []string{"b", "a", "c[1]", "x}y", "{z", "star*"} {
		held[k] = mustAcquire(t, h, key(t, k), locks.Options{TTL: 10 * h.TTL, Metadata: md})
	}
	gone := mustAcquire(t, h, key(t, "gone"), locks.Options{TTL: h.TTL})
	_ = gone.Release(ctx)
	mustAcquire(t, h, key(t, "expired"), locks.Options{TTL: h.TTL})
	h.Expire(key(t, "expired"))

	const all = "a b c[1] star* x}y {z"
	if got := list(base + "*"); got != all {
		t.Fatalf("List(all) = %q, want %q (sorted, no released or expired lease, no other keys)", got, all)
	}
	for pattern, want := range map[string]string{
		"[ab]":      "a b",
		"[^ab]*":    "c[1] star* x}y {z",
		"[a-b]":     "a b",
		"?":         "a b",
		`c\[1\]`:    "c[1]",
		"*y":        "x}y",
		`star\*`:    "star*",
		"\\{*":      "{z",
		"nothing*":  "",
		"a*a*a*a*b": "",
	} {
		if got := list(base + pattern); got != want {
			t.Errorf("List(%q) = %q, want %q", pattern, got, want)
		}
	}
	infos, err := ls.List(ctx, base+"a")
	if err != nil || len(infos) != 1 {
		t.Fatalf("List(a) = %v, %v", infos, err)
	}
	in := infos[0]
	if in.FencingToken != held["a"].FencingToken() || in.Metadata["owner"] != md["owner"] || in.Metadata["host"] != "a b" ||
		in.ExpiresAt.Before(held["a"].ExpiresAt()) {
		t.Errorf("List(a) = %+v; want token %d, the metadata %v and an expiry after the trust window", in, held["a"].FencingToken(), md)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ls.List(cancelled, base+"*"); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled ctx = %v, want context.Canceled", err)
	}
	for _, l := range held {
		_ = l.Release(ctx)
	}
	if got := list(base + "*"); got != "" {
		t.Errorf("List after releasing everything = %q", got)
	}
}

// globEscape makes s match only itself in a List pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if strings.IndexByte(`*?[]\`, c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}
