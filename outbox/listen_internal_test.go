package outbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// timerClock records the duration of every timer it creates.
type timerClock struct {
	*clockwork.FakeClock
	durations chan time.Duration
}

func (c timerClock) NewTimer(d time.Duration) clockwork.Timer {
	t := c.FakeClock.NewTimer(d)
	c.durations <- d
	return t
}

// The reconnect backoff doubles while attempts keep failing, caps, and
// starts again from the shortest wait once a connection got as far as
// listening before it dropped.
func TestListenBackoffResetsAfterAConnection(t *testing.T) {
	clock := timerClock{FakeClock: clockwork.NewFakeClock(), durations: make(chan time.Duration, 1)}
	// Each attempt fails; true marks one that was listening first.
	script := []bool{false, false, false, false, false, false, false, true, false, false, true}
	want := []time.Duration{
		100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
		1600 * time.Millisecond, 3200 * time.Millisecond, 5 * time.Second,
		100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
		100 * time.Millisecond,
	}
	calls := 0
	listen := func(ctx context.Context) (bool, error) {
		if calls == len(script) {
			<-ctx.Done()
			return false, ctx.Err()
		}
		calls++
		return script[calls-1], errors.New("connection refused")
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{cancel: cancel, done: make(chan struct{})}
	go l.run(ctx, clock, listen)
	defer l.stop()
	guard := time.After(20 * time.Second) // failure guard only
	for i, w := range want {
		select {
		case d := <-clock.durations:
			if d != w {
				t.Fatalf("wait %d after attempt %d = %v, want %v", i+1, i+1, d, w)
			}
			clock.Advance(d)
		case <-guard:
			t.Fatalf("no wait %d", i+1)
		}
	}
}
