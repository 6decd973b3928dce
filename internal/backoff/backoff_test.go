package backoff

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDelayDoublesUpToMax(t *testing.T) {
	p := Connect()
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond, 2 * time.Second, 2 * time.Second}
	for i, w := range want {
		if got := p.Delay(i + 1); got != w {
			t.Errorf("Delay(%d) = %v, want %v", i+1, got, w)
		}
	}
	// No overflow however long the streak.
	if got := p.Delay(math.MaxInt); got != p.Max {
		t.Errorf("Delay(MaxInt) = %v, want %v", got, p.Max)
	}
	if got := p.Delay(0); got != p.First {
		t.Errorf("Delay(0) = %v, want %v", got, p.First)
	}
}

// The documented connect budget: 1.5 s of waits over 5 attempts.
func TestBudget(t *testing.T) {
	if got := Connect().Budget(DefaultAttempts); got != 1500*time.Millisecond {
		t.Errorf("Budget(%d) = %v, want 1.5s", DefaultAttempts, got)
	}
	if got := Connect().Budget(1); got != 0 {
		t.Errorf("Budget(1) = %v, want 0: one attempt never waits", got)
	}
}

// Retry waits Delay(n) after each failure, on the policy's clock, and stops
// at the first success.
func TestRetryWaitsOnTheClock(t *testing.T) {
	clock := clockwork.NewFakeClock()
	p := Policy{First: time.Second, Max: 4 * time.Second, Clock: clock}
	calls := make(chan int, 10)
	n := 0
	done := make(chan error, 1)
	go func() {
		done <- p.Retry(context.Background(), 10, func(context.Context) error {
			n++
			calls <- n
			if n == 4 {
				return nil
			}
			return errors.New("refused")
		})
	}()
	for _, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		<-calls
		if err := clock.BlockUntilContext(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(wait - time.Nanosecond)
		select {
		case c := <-calls:
			t.Fatalf("attempt %d came %v early", c, time.Nanosecond)
		default:
		}
		clock.Advance(time.Nanosecond)
	}
	<-calls
	if err := <-done; err != nil {
		t.Fatalf("Retry = %v, want nil after the 4th attempt", err)
	}
}

// After the last attempt, the error says how many there were and wraps the
// last cause.
func TestRetryGivesUp(t *testing.T) {
	cause := errors.New("refused")
	calls := 0
	err := Policy{Clock: clockwork.NewFakeClock()}.Retry(context.Background(), 1, func(context.Context) error { calls++; return cause })
	if !errors.Is(err, cause) || !strings.Contains(err.Error(), "after 1 attempts") || calls != 1 {
		t.Errorf("Retry = %v after %d calls", err, calls)
	}
}

// A cancelled ctx ends the waiting at once.
func TestRetryCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cause := errors.New("refused")
	err := Policy{First: time.Hour, Max: time.Hour, Clock: clockwork.NewFakeClock()}.Retry(ctx, 0, func(context.Context) error {
		cancel()
		return cause
	})
	if !errors.Is(err, cause) || !strings.Contains(err.Error(), "cancelled after 1 attempts") {
		t.Errorf("Retry = %v", err)
	}
}

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

// Reconnect doubles its wait while attempts keep failing and starts over
// after an attempt that had connected; it returns once op succeeds.
func TestReconnectResetsAfterAConnection(t *testing.T) {
	clock := timerClock{FakeClock: clockwork.NewFakeClock(), durations: make(chan time.Duration)}
	p := Policy{First: time.Second, Max: 3 * time.Second, Clock: clock}
	script := []bool{false, false, false, true, false} // connected before failing?
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, time.Second, 2 * time.Second}
	calls := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Reconnect(context.Background(), func(context.Context) (bool, error) {
			calls++
			if calls > len(script) {
				return false, nil
			}
			return script[calls-1], errors.New("dropped")
		})
	}()
	for i, w := range want {
		if d := <-clock.durations; d != w {
			t.Fatalf("wait %d = %v, want %v", i+1, d, w)
		}
		clock.Advance(w)
	}
	<-done
	if calls != len(script)+1 {
		t.Errorf("%d calls, want %d", calls, len(script)+1)
	}
}
