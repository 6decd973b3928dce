// Package backoff is the one retry policy for reaching a server: Redis at
// start, PostgreSQL at start, and the outbox's LISTEN connection for as long
// as the app runs.
package backoff

import (
	"context"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
)

// The connect policy shared by Redis and PostgreSQL at start: with
// DefaultAttempts tries, a refused connection fails start after the waits
// alone, 100+200+400+800 ms = 1.5 s.
const (
	// DefaultFirst is the wait after the first failure; each later wait
	// doubles it.
	DefaultFirst = 100 * time.Millisecond
	// DefaultMax caps a wait at start.
	DefaultMax = 2 * time.Second
	// DefaultAttempts is how many times start tries a server.
	DefaultAttempts = 5
)

// Policy waits First after the first failure and doubles each wait up to
// Max.
type Policy struct {
	First, Max time.Duration
	// Clock times the waits (default: the real clock). Waits are real time
	// in an app even under a fake clock: they wait on a network, not on
	// schedule logic.
	Clock clockwork.Clock
}

// Connect is the policy at start, for every server.
func Connect() Policy { return Policy{First: DefaultFirst, Max: DefaultMax} }

// Delay is the wait after the n-th failure in a row (n >= 1).
func (p Policy) Delay(n int) time.Duration {
	d := p.First
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Budget is the sum of the waits between attempts tries: how long a server
// that refuses at once takes to fail.
func (p Policy) Budget(attempts int) time.Duration {
	var sum time.Duration
	for n := 1; n < attempts; n++ {
		sum += p.Delay(n)
	}
	return sum
}

// Retry calls op until it returns nil, it has failed attempts times
// (attempts <= 0: no limit), or ctx is done, waiting Delay(n) after the n-th
// failure. It returns nil or op's last error, saying how many attempts it
// took.
func (p Policy) Retry(ctx context.Context, attempts int, op func(context.Context) error) error {
	for n := 1; ; n++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		if attempts > 0 && n >= attempts {
			return fmt.Errorf("after %d attempts: %w", n, err)
		}
		if !p.Wait(ctx, n) {
			return fmt.Errorf("cancelled after %d attempts: %w", n, err)
		}
	}
}

// Reconnect calls op until it returns nil or ctx is done, waiting Delay(n)
// after the n-th failure in a row. A failure of an op that reports it had
// connected first ends the streak: a new outage starts from the shortest
// wait, not where the last one left off.
func (p Policy) Reconnect(ctx context.Context, op func(context.Context) (connected bool, err error)) {
	n := 0
	for ctx.Err() == nil {
		connected, err := op(ctx)
		if err == nil {
			return
		}
		if connected {
			n = 0
		}
		n++
		if !p.Wait(ctx, n) {
			return
		}
	}
}

// Wait waits Delay(n), and reports false if ctx was done first.
func (p Policy) Wait(ctx context.Context, n int) bool {
	clock := p.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	t := clock.NewTimer(p.Delay(n))
	defer t.Stop()
	select {
	case <-t.Chan():
		return true
	case <-ctx.Done():
		return false
	}
}
