package beignettest

import (
	"time"

	"github.com/jonboulle/clockwork"
)

// trackedClock is the Ports.Clock of a TestPorts: the fake clock, with
// every timer made through it known to the work tracker, so that Advance
// steps to each one on the way (a run's Timeout, a lease's renewal, a
// handler's Sleep or After, a lock's Wait) rather than jumping past it.
// Timers made on TestPorts.Clock directly fire too, but Advance does not
// stop at them.
type trackedClock struct {
	*clockwork.FakeClock
	work *work
	// ended is closed when the test ends, before its Cleanup functions
	// run: the fake clock will not move again.
	ended <-chan struct{}
}

var _ clockwork.Clock = (*trackedClock)(nil)

// After implements clockwork.Clock.
func (c *trackedClock) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).Chan() }

// Sleep implements clockwork.Clock. It also returns when the test ends:
// nothing moves the fake clock then, and a handler sleeping on it, which
// has no ctx to be cancelled through, would otherwise keep the Stop in the
// test's Cleanup waiting until go test's timeout.
func (c *trackedClock) Sleep(d time.Duration) {
	t := c.NewTimer(d)
	select {
	case <-t.Chan():
	case <-c.ended:
		t.Stop()
	}
}

// NewTimer implements clockwork.Clock.
func (c *trackedClock) NewTimer(d time.Duration) clockwork.Timer {
	tm := c.work.addTimer("timer", d, 0, false)
	return &trackedTimer{Timer: c.FakeClock.NewTimer(d), work: c.work, tm: tm}
}

// AfterFunc implements clockwork.Clock. f counts as work in flight from
// the moment Advance fires it until it returns, so that Advance waits for
// (say) a run's Timeout to cancel the run.
func (c *trackedClock) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	tm := c.work.addTimer("timer callback", d, 0, true)
	ft := c.FakeClock.AfterFunc(d, func() {
		defer c.work.fired(tm)
		f()
	})
	return &trackedTimer{Timer: ft, work: c.work, tm: tm}
}

// NewTicker implements clockwork.Clock.
func (c *trackedClock) NewTicker(d time.Duration) clockwork.Ticker {
	tk := c.FakeClock.NewTicker(d) // panics on d <= 0, as time.NewTicker does
	return &trackedTicker{Ticker: tk, work: c.work, tm: c.work.addTimer("ticker", d, d, false)}
}

// trackedTimer keeps its entry in the tracker in step with the timer.
type trackedTimer struct {
	clockwork.Timer
	work *work
	tm   *timer
}

func (t *trackedTimer) Stop() bool {
	stopped := t.Timer.Stop()
	t.work.stopTimer(t.tm, stopped)
	return stopped
}

func (t *trackedTimer) Reset(d time.Duration) bool {
	stopped := t.Timer.Stop()
	t.work.resetTimer(t.tm, stopped, d)
	t.Timer.Reset(d)
	return stopped
}

// trackedTicker keeps its entry in the tracker in step with the ticker.
type trackedTicker struct {
	clockwork.Ticker
	work *work
	tm   *timer
}

func (t *trackedTicker) Stop() {
	t.Ticker.Stop()
	t.work.stopTimer(t.tm, true)
}

func (t *trackedTicker) Reset(d time.Duration) {
	t.Ticker.Reset(d)
	t.work.resetTicker(t.tm, d)
}
