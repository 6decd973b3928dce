package scheduler

import (
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/wakes"
)

// busy is one goroutine's account of its work with Ports.Work: busy from
// begin until done, except while it sleeps on the clock. Without a tracker
// every call is a no-op.
type busy struct {
	ports *ctx.Ports
	what  string
	end   func()
	// hb, when set, tells readiness checks when the goroutine means to
	// wake next and when it did.
	hb *heartbeat
}

// begin counts work as in flight. Call it before starting the goroutine
// that does the work, so that the work is counted from the moment it is
// due.
func begin(ports *ctx.Ports, what string) *busy {
	return &busy{ports: ports, what: what, end: ports.Begin(what)}
}

// done ends the work. It may be called more than once.
func (b *busy) done() {
	b.end()
	b.end = func() {}
}

type wakeReason int

const (
	wokeByClock wakeReason = iota
	wokeByStop
	wokeByWake
)

// sleep waits d on the clock, or until stop or wake delivers (either may
// be nil), counting the goroutine as idle meanwhile. It is in flight again
// before the tracker stops counting the wake-up, so no instant between the
// two is uncounted.
func (b *busy) sleep(d time.Duration, stop <-chan struct{}, wake <-chan struct{}) wakeReason {
	return b.sleepChore(d, d, stop, wake)
}

// sleepChore is sleep for a goroutine that wakes after chore (<= d) for a
// chore of its own (the heartbeat), on its way to its own wake-up after d:
// a test's Advance steps to d, never to chore (see ctx.ChoreTracker).
func (b *busy) sleepChore(d, chore time.Duration, stop <-chan struct{}, wake <-chan struct{}) wakeReason {
	if b.hb != nil {
		// Due at its own wake-up, not the chore's: the loop counts as
		// stalled after two of its schedule's intervals, as ever. Said
		// before the timer is armed, so whoever sees the timer (a test's
		// BlockUntil) sees the loop's plan too, measured from the same
		// instant rather than from a clock moved in between.
		now := b.ports.Clock.Now()
		b.hb.beat(now, now.Add(d))
		defer func() { b.hb.beat(b.ports.Clock.Now(), time.Time{}) }()
	}
	var t clockwork.Timer
	var woke func()
	if chore < d {
		t, woke = b.ports.SleepChore(b.what, d, chore)
	} else {
		chore = d
		t = b.ports.Clock.NewTimer(d)
	}
	if woke == nil {
		woke = b.ports.Sleep(b.what, d)
	}
	b.end()
	var why wakeReason
	select {
	case <-t.Chan():
	case <-stop:
		t.Stop()
		why = wokeByStop
	case <-wake:
		t.Stop()
		why = wokeByWake
	}
	b.end = b.ports.Begin(b.what)
	if why == wokeByWake {
		// Busy again: a test's tracker may stop counting the wake-up.
		if k, ok := b.ports.Work.(wakes.Counter); ok {
			k.Received(wake)
		}
	}
	woke()
	return why
}
