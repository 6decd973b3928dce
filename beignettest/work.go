package beignettest

import (
	"fmt"
	"runtime"
	"slices"
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
	timers   map[*timer]struct{}
	wakes    map[<-chan struct{}][]*job // wake-ups sent, not yet taken up
	idle     chan struct{}              // closed, and replaced, when inFlight empties
	// events counts every change of the books, so that a quiet spell
	// can be told apart from progress between two looks.
	events uint64

	// repliesMu guards replies: since when each goroutine has been seen
	// waiting for a Redis reply (see quiet).
	repliesMu sync.Mutex
	replies   replyWaits
}

// timer is a timer, callback or ticker made on Ports.Clock, due at at.
type timer struct {
	what     string
	at       time.Time
	period   time.Duration // a ticker's; 0 for a timer
	callback bool          // an AfterFunc: in flight from firing until it returns
	due      *job          // a callback's, set once the clock has been moved to at
}

type job struct{ what string }

type sleeper struct {
	what string
	at   time.Time
	// chore is when its timer fires: at, or earlier for a chore (see
	// ctx.ChoreTracker), which Advance does not step to.
	chore time.Time
	due   *job // set once the clock has been moved to chore
}

func newWork(clock *clockwork.FakeClock) *work {
	return &work{clock: clock, inFlight: map[*job]struct{}{}, sleepers: map[*sleeper]struct{}{},
		timers: map[*timer]struct{}{}, wakes: map[<-chan struct{}][]*job{}, idle: make(chan struct{}),
		replies: replyWaits{}}
}

// Begin implements ctx.Tracker.
func (w *work) Begin(what string) (end func()) {
	j := &job{what: what}
	w.mu.Lock()
	w.inFlight[j] = struct{}{}
	w.events++
	w.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { w.finish(j) }) }
}

func (w *work) finish(j *job) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.inFlight, j)
	w.events++
	if len(w.inFlight) == 0 {
		close(w.idle)
		w.idle = make(chan struct{})
	}
}

// Sleep implements ctx.Tracker.
func (w *work) Sleep(what string, d time.Duration) (woke func()) {
	return w.sleep(what, d, d)
}

// SleepChore implements ctx.ChoreTracker.
func (w *work) SleepChore(what string, d, chore time.Duration) (woke func()) {
	return w.sleep(what, d, min(chore, d))
}

// ChoreTimer implements ctx.ChoreTracker: a timer on the fake clock that
// the tracker does not know, so Advance does not stop at it.
func (w *work) ChoreTimer(d time.Duration) clockwork.Timer { return w.clock.NewTimer(d) }

func (w *work) sleep(what string, d, chore time.Duration) (woke func()) {
	now := w.clock.Now()
	s := &sleeper{what: what, at: now.Add(d), chore: now.Add(chore)}
	w.mu.Lock()
	w.sleepers[s] = struct{}{}
	w.events++
	if chore <= 0 {
		// The fake clock fires such a timer at once.
		w.markDue(s)
	}
	w.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			w.mu.Lock()
			delete(w.sleepers, s)
			w.events++
			due := s.due
			w.mu.Unlock()
			if due != nil {
				w.finish(due)
			}
		})
	}
}

// Sending implements wakes.Counter: a wake-up is work in flight from
// before it is sent until its receiver, busy with it, says so.
func (w *work) Sending(ch <-chan struct{}) (unsent func()) {
	j := &job{what: "wake-up"}
	w.mu.Lock()
	w.inFlight[j] = struct{}{}
	w.wakes[ch] = append(w.wakes[ch], j)
	w.events++
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		if i := slices.Index(w.wakes[ch], j); i >= 0 {
			w.wakes[ch] = slices.Delete(w.wakes[ch], i, i+1)
		}
		w.mu.Unlock()
		w.finish(j)
	}
}

// Received implements wakes.Counter.
func (w *work) Received(ch <-chan struct{}) {
	w.mu.Lock()
	q := w.wakes[ch]
	if len(q) == 0 {
		w.mu.Unlock()
		return // sent by no one this tracker counts
	}
	j := q[0]
	if len(q) == 1 {
		delete(w.wakes, ch)
	} else {
		w.wakes[ch] = q[1:]
	}
	w.mu.Unlock()
	w.finish(j)
}

// markDue counts s as in flight: its timer fires now. w.mu is held.
func (w *work) markDue(s *sleeper) {
	if s.due == nil {
		s.due = &job{what: s.what}
		w.inFlight[s.due] = struct{}{}
	}
}

// next returns the earliest wake-up not yet due, if it is at or before
// end: a sleeping loop's, or a timer's on Ports.Clock.
func (w *work) next(end time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock.Now()
	var at time.Time
	found := false
	consider := func(t time.Time) {
		if !t.After(end) && (!found || t.Before(at)) {
			at, found = t, true
		}
	}
	for s := range w.sleepers {
		if s.due == nil {
			consider(s.at)
		}
	}
	for tm := range w.timers {
		switch {
		case tm.due != nil:
			continue // fired, its callback still running
		case tm.period > 0:
			for !tm.at.After(now) {
				tm.at = tm.at.Add(tm.period)
			}
		case !tm.at.After(now):
			if !tm.callback {
				delete(w.timers, tm) // fired: its receiver's work is its own
			}
			continue
		}
		consider(tm.at)
	}
	return at, found
}

// wake counts every sleeper and every timer callback due by at as in
// flight, before the clock fires their timers, so none is ever uncounted
// between its timer firing and its goroutine running again.
func (w *work) wake(at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for s := range w.sleepers {
		if !s.chore.After(at) {
			w.markDue(s)
		}
	}
	for tm := range w.timers {
		if tm.callback && tm.due == nil && !tm.at.After(at) {
			tm.due = &job{what: tm.what}
			w.inFlight[tm.due] = struct{}{}
		}
	}
}

// addTimer records a timer made on Ports.Clock, due after d.
func (w *work) addTimer(what string, d, period time.Duration, callback bool) *timer {
	w.mu.Lock()
	defer w.mu.Unlock()
	tm := &timer{what: what, at: w.clock.Now().Add(d), period: period, callback: callback}
	w.timers[tm] = struct{}{}
	w.events++
	if callback && d <= 0 {
		// The fake clock calls it at once.
		tm.due = &job{what: what}
		w.inFlight[tm.due] = struct{}{}
	}
	return tm
}

// stopTimer forgets tm. stopped says the timer had not fired: a callback
// counted due then never runs, so its count ends here.
func (w *work) stopTimer(tm *timer, stopped bool) {
	w.mu.Lock()
	if tm.callback && !stopped {
		w.mu.Unlock()
		return // fired: fired forgets it once the callback returns
	}
	delete(w.timers, tm)
	w.events++
	due := tm.due
	tm.due = nil
	w.mu.Unlock()
	if due != nil {
		w.finish(due)
	}
}

// resetTimer re-arms tm to fire after d.
func (w *work) resetTimer(tm *timer, stopped bool, d time.Duration) {
	w.stopTimer(tm, stopped)
	w.mu.Lock()
	defer w.mu.Unlock()
	if tm.callback && !stopped {
		// The first firing's callback is running and will call fired;
		// the re-armed one is only a point for Advance to stop at.
		tm = &timer{what: tm.what}
	}
	tm.at = w.clock.Now().Add(d)
	w.timers[tm] = struct{}{}
	w.events++
	if tm.callback && d <= 0 {
		tm.due = &job{what: tm.what}
		w.inFlight[tm.due] = struct{}{}
	}
}

// resetTicker re-arms a ticker with period d.
func (w *work) resetTicker(tm *timer, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	tm.at, tm.period = w.clock.Now().Add(d), d
	w.timers[tm] = struct{}{}
	w.events++
}

// fired records that a callback's function returned.
func (w *work) fired(tm *timer) {
	w.mu.Lock()
	delete(w.timers, tm)
	w.events++
	due := tm.due
	tm.due = nil
	w.mu.Unlock()
	if due != nil {
		w.finish(due)
	}
}

// waitIdle returns once nothing is in flight, or once everything in
// flight is blocked: no goroutine of the test binary can move before the
// clock does (see quiet). It returns an error naming what is still in
// flight after patience of real time.
func (w *work) waitIdle(patience time.Duration) error {
	start := time.Now()
	poll := 200 * time.Microsecond
	for {
		w.mu.Lock()
		n, idle, events := len(w.inFlight), w.idle, w.events
		w.mu.Unlock()
		if n == 0 {
			return nil
		}
		t := time.NewTimer(poll)
		select {
		case <-idle:
			t.Stop()
			continue
		case <-t.C:
		}
		if w.blocked(events) {
			return nil
		}
		if time.Since(start) > patience {
			return fmt.Errorf("still in flight after %v of real time: %s", patience, w.describe())
		}
		poll = min(2*poll, 20*time.Millisecond)
	}
}

// blocked reports whether the work in flight is stuck until the clock
// moves: the books have not changed since events, and two looks at every
// goroutine, a yield apart, find none that can run.
func (w *work) blocked(events uint64) bool {
	w.repliesMu.Lock()
	defer w.repliesMu.Unlock()
	for range 2 {
		if !quiet(w.replies) {
			return false
		}
		runtime.Gosched()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.events == events
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
