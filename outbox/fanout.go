package outbox

import (
	"sync"

	"github.com/beignet-go/beignet/internal/wakes"
)

// fanout wakes every subscriber without ever blocking: each has a buffer of
// one, so a burst of commits collapses into one wake-up per drain.
type fanout struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

// wake wakes every subscriber. counter, when set (a test's tracker), counts
// each wake-up from before it is sent until its drain has taken it up.
func (f *fanout) wake(counter wakes.Counter) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		unsent := func() {}
		if counter != nil {
			unsent = counter.Sending(ch)
		}
		select {
		case ch <- struct{}{}:
		default:
			unsent() // one is pending already, and counted
		}
	}
}

func (f *fanout) subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	if f.subs == nil {
		f.subs = make(map[chan struct{}]struct{})
	}
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		delete(f.subs, ch)
		f.mu.Unlock()
	}
}
