package outbox

import "sync"

// fanout wakes every subscriber without ever blocking: each has a buffer of
// one, so a burst of commits collapses into one wake-up per drain.
type fanout struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

func (f *fanout) wake() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- struct{}{}:
		default:
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
