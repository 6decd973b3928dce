// Package wakes lets a test's work tracker count a wake-up sent on a
// channel (an outbox commit waking its drain) as work in flight, from the
// moment it is sent until the goroutine it wakes has taken it up. Without
// that, a test that commits and then advances its fake clock could look
// between the send and the receive, see nothing in flight, and return
// before the drain ran.
//
// beignettest registers its tracker under its clocks; the memory outbox
// store looks its clock up when it wakes its subscribers, and the
// scheduler reports a wake it received to Ports.Work.
package wakes

import (
	"sync"

	"github.com/jonboulle/clockwork"
)

// Counter counts wake-ups in flight.
type Counter interface {
	// Sending counts a wake-up about to be sent on ch. The sender calls
	// unsent if the send did not happen (the channel's buffer already
	// held one, which is counted).
	Sending(ch <-chan struct{}) (unsent func())
	// Received ends the count of one wake-up sent on ch, once the
	// receiver counts as busy with it.
	Received(ch <-chan struct{})
}

var registry sync.Map // clockwork.Clock -> Counter

// Register makes For(c) return k until unregister is called.
func Register(c clockwork.Clock, k Counter) (unregister func()) {
	registry.Store(c, k)
	return func() { registry.CompareAndDelete(c, k) }
}

// For returns the Counter registered under c, or nil.
func For(c clockwork.Clock) Counter {
	if c == nil {
		return nil
	}
	k, _ := registry.Load(c)
	counter, _ := k.(Counter)
	return counter
}
