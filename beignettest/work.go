package beignettest

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// work is the ctx.Tracker of a TestPorts: it counts what the scheduler and
// the drains have in flight, and knows when each sleeping loop is due, so
// Advance can step from one wake-up to the next and wait in between.
type work struct {
	clock *clockwork.FakeClock

	mu       sync.Mutex
	inFlight map[*job]struct{}
	sleepers map[*sleeper]struct{}
	idle     chan struct{} // closed, and replaced, when inFlight empties
}

type job struct{ what string }

type sleeper struct {
	what string
	at   time.Time
	due  *job // set once the clock has been moved to at
}

func newWork(clock *clockwork.FakeClock) *work {
	return &work{clock: clock, inFlight: map[*job]struct{}{}, sleepers: map[*sleeper]struct{}{}, idle: make(chan struct{})}
}

// Begin implements ctx.Tracker.
func (w *work) Begin(what string) (end func()) {
	j := &job{what: what}
	w.mu.Lock()
	w.inFlight[j] = struct{}{}
	w.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { w.finish(j) }) }
}

func (w *work) finish(j *job) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.inFlight, j)
	if len(w.inFlight) == 0 {
		close(w.idle)
		w.idle = make(chan struct{})
	}
}

// Sleep implements ctx.Tracker.
func (w *work) Sleep(what string, d time.Duration) (woke func()) {
	s := &sleeper{what: what, at: w.clock.Now().Add(d)}
	w.mu.Lock()
	w.sleepers[s] = struct{}{}
	if d <= 0 {
		// The fake clock fires such a timer at once.
		w.markDue(s)
	}
	w.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			w.mu.Lock()
			delete(w.sleepers, s)
			due := s.due
			w.mu.Unlock()
			if due != nil {
				w.finish(due)
			}
		})
	}
}

// markDue counts s as in flight: its timer fires now. w.mu is held.
func (w *work) markDue(s *sleeper) {
	if s.due == nil {
		s.due = &job{what: s.what}
		w.inFlight[s.due] = struct{}{}
	}
}

// next returns the earliest wake-up not yet due, if it is at or before
// end.
func (w *work) next(end time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var at time.Time
	found := false
	for s := range w.sleepers {
		if s.due == nil && !s.at.After(end) && (!found || s.at.Before(at)) {
			at, found = s.at, true
		}
	}
	return at, found
}

// wake counts every sleeper due by at as in flight, before the clock
// fires their timers, so none is ever uncounted between its timer firing
// and its goroutine running again.
func (w *work) wake(at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for s := range w.sleepers {
		if !s.at.After(at) {
			w.markDue(s)
		}
	}
}

// waitIdle returns once nothing is in flight, or an error naming what
// still is after patience of real time.
func (w *work) waitIdle(patience time.Duration) error {
	var timeout <-chan time.Time
	for {
		w.mu.Lock()
		if len(w.inFlight) == 0 {
			w.mu.Unlock()
			return nil
		}
		idle := w.idle
		w.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(patience)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-idle:
		case <-timeout:
			return fmt.Errorf("still in flight after %v of real time: %s", patience, w.describe())
		}
	}
}

func (w *work) describe() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var names []string
	for j := range w.inFlight {
		names = append(names, j.what)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
