package scheduler_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/ledger"
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

// claimWatcher wraps a Ledger and counts every claim of a scheduled tick,
// which is the observable sign that an instance has processed that tick.
type claimWatcher struct {
	ledger.Ledger
	mu       sync.Mutex
	attempts int
	won      int
	released int
	changed  chan struct{}
}

// Release counts the end of a won claim: the run's lease and the claim's
// renewal timers are gone by then.
func (w *claimWatcher) Release(ctx context.Context, r ledger.ClaimRequest) error {
	err := w.Ledger.Release(ctx, r)
	w.mu.Lock()
	w.released++
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
	return err
}

// waitReleased blocks until n won claims have ended.
func (w *claimWatcher) waitReleased(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		w.mu.Lock()
		r, ch := w.released, w.changed
		w.mu.Unlock()
		if r >= n {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("timed out waiting for %d claims to end (have %d)", n, r)
		}
	}
}

func newClaimWatcher(l ledger.Ledger) *claimWatcher {
	return &claimWatcher{Ledger: l, changed: make(chan struct{})}
}

func (w *claimWatcher) Claim(ctx context.Context, r ledger.ClaimRequest) (ledger.Claim, error) {
	c, err := w.Ledger.Claim(ctx, r)
	if !r.Manual {
		w.mu.Lock()
		w.attempts++
		if c.State == ledger.Won {
			w.won++
		}
		close(w.changed)
		w.changed = make(chan struct{})
		w.mu.Unlock()
	}
	return c, err
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
