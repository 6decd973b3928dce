package scheduler_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"
)

// shiftedClock is one instance's view of time: base shifted by offset, with
// timers that may fire late by lateBy. Durations are the same on every
// instance; only the wall-clock reading differs.
type shiftedClock struct {
	clockwork.Clock
	offset time.Duration
	lateBy time.Duration
}

func (c shiftedClock) Now() time.Time                  { return c.Clock.Now().Add(c.offset) }
func (c shiftedClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c shiftedClock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }
func (c shiftedClock) NewTimer(d time.Duration) clockwork.Timer {
	return c.Clock.NewTimer(d + c.lateBy)
}

// recorder collects reports from any number of schedulers.
type recorder struct {
	mu      sync.Mutex
	reports []scheduler.Report
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) OnRun(rep scheduler.Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = append(r.reports, rep)
	close(r.changed)
	r.changed = make(chan struct{})
}

// waitFor blocks until cond holds over the reports so far.
func (r *recorder) waitFor(t *testing.T, what string, cond func([]scheduler.Report) bool) []scheduler.Report {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		reps := append([]scheduler.Report(nil), r.reports...)
		ch := r.changed
		r.mu.Unlock()
		if cond(reps) {
			return reps
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("timed out waiting for %s; reports: %+v", what, reps)
		}
	}
}

func (r *recorder) all() []scheduler.Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]scheduler.Report(nil), r.reports...)
}

func count(reps []scheduler.Report, o scheduler.Outcome) int {
	n := 0
	for _, r := range reps {
		if r.Outcome == o {
			n++
		}
	}
	return n
}

// claimWatcher wraps a Locks and counts every attempt to claim a tick, which
// is the observable sign that an instance has processed that tick.
type claimWatcher struct {
	locks.Locks
	mu       sync.Mutex
	attempts int
	won      int
	changed  chan struct{}
}

func newClaimWatcher(l locks.Locks) *claimWatcher {
	return &claimWatcher{Locks: l, changed: make(chan struct{})}
}

func (w *claimWatcher) Acquire(ctx context.Context, key string, opts locks.Options) (locks.Result, error) {
	res, err := w.Locks.Acquire(ctx, key, opts)
	if strings.Contains(key, ":tick:") {
		w.mu.Lock()
		w.attempts++
		if res.Acquired {
			w.won++
		}
		close(w.changed)
		w.changed = make(chan struct{})
		w.mu.Unlock()
	}
	return res, err
}

// WithLease must go through this wrapper's Acquire for nothing, but keep the
// backend's own renewal semantics.
func (w *claimWatcher) WithLease(ctx context.Context, key string, opts locks.Options, fn func(context.Context, locks.Lease) error) error {
	return w.Locks.WithLease(ctx, key, opts, fn)
}

func (w *claimWatcher) waitAttempts(t *testing.T, n int) (won int) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		w.mu.Lock()
		a, won, ch := w.attempts, w.won, w.changed
		w.mu.Unlock()
		if a >= n {
			return won
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("timed out waiting for %d claim attempts (have %d)", n, a)
		}
	}
}
