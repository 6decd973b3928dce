package beignettest

import (
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// Work that never ends is named when the patience runs out, and a sleeper
// counts as in flight from the moment it is due until it says it woke.
func TestWorkAccounting(t *testing.T) {
	w := newWork(clockwork.NewFakeClock())
	end := w.Begin("run stuck")
	if err := w.waitIdle(time.Millisecond); err == nil || !strings.Contains(err.Error(), "run stuck") {
		t.Fatalf("waitIdle = %v, want it to name the stuck run", err)
	}
	end()
	end() // twice is harmless
	if err := w.waitIdle(time.Millisecond); err != nil {
		t.Fatal(err)
	}

	woke := w.Sleep("loop", time.Minute)
	if at, ok := w.next(w.clock.Now().Add(time.Minute)); !ok || !at.Equal(w.clock.Now().Add(time.Minute)) {
		t.Fatalf("next = %v, %v", at, ok)
	}
	if _, ok := w.next(w.clock.Now().Add(time.Second)); ok {
		t.Fatal("a wake-up beyond the end was reported")
	}
	w.wake(w.clock.Now().Add(time.Minute))
	if err := w.waitIdle(time.Millisecond); err == nil {
		t.Fatal("a due sleeper was not counted in flight")
	}
	woke()
	woke()
	if err := w.waitIdle(time.Millisecond); err != nil {
		t.Fatal(err)
	}

	// A sleeper with nothing to wait for is due at once.
	woke = w.Sleep("loop", 0)
	if err := w.waitIdle(time.Millisecond); err == nil {
		t.Fatal("a zero sleep was not counted in flight")
	}
	woke()
}
