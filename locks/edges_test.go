package locks_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/locks"
)

func TestSaturatingAdd(t *testing.T) {
	cases := []struct{ a, b, want time.Duration }{
		{1, 2, 3},
		{-1, -2, -3},
		{math.MaxInt64, 1, math.MaxInt64},
		{math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{math.MinInt64, -1, math.MinInt64},
		{math.MinInt64, math.MinInt64, math.MinInt64},
		{math.MaxInt64, math.MinInt64, -1},
		{locks.MaxTTL, locks.MaxTTL, 2 * locks.MaxTTL},
	}
	for _, c := range cases {
		if got := locks.SaturatingAdd(c.a, c.b); got != c.want {
			t.Errorf("SaturatingAdd(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := locks.SaturatingAdd(c.b, c.a); got != c.want {
			t.Errorf("SaturatingAdd(%d, %d) = %d, want %d", c.b, c.a, got, c.want)
		}
	}
}

// A process that restarts with memory locks must not hand out tokens that a
// store which outlived it (the outbox's fence row) has already seen.
func TestMemoryTokensRiseAcrossRestarts(t *testing.T) {
	clock := clockwork.NewFakeClock()
	ctx := context.Background()
	var last uint64
	for restart := 0; restart < 3; restart++ {
		m := locks.NewMemory(locks.WithClock(clock))
		for i := 0; i < 5; i++ {
			res, err := m.Acquire(ctx, "outbox:orders", locks.Options{TTL: time.Second})
			if err != nil || !res.Acquired {
				t.Fatal(res, err)
			}
			if tok := res.Lease.FencingToken(); tok <= last {
				t.Fatalf("restart %d, acquisition %d: token %d, want > %d", restart, i, tok, last)
			}
			last = res.Lease.FencingToken()
			_ = res.Lease.Release(ctx)
		}
		clock.Advance(time.Millisecond) // a restart takes far longer
	}
	// Tokens still rise when the clock steps backwards within a process.
	m := locks.NewMemory(locks.WithClock(clock))
	a, _ := m.Acquire(ctx, "k", locks.Options{TTL: time.Second})
	_ = a.Lease.Release(ctx)
	clock.Advance(-time.Hour)
	b, _ := m.Acquire(ctx, "k", locks.Options{TTL: time.Second})
	if b.Lease.FencingToken() <= a.Lease.FencingToken() {
		t.Fatalf("token after a backwards clock step %d, want > %d", b.Lease.FencingToken(), a.Lease.FencingToken())
	}
}

// creepingClock moves on by step every time it is read, as a real clock
// does under load.
type creepingClock struct {
	*clockwork.FakeClock
	step time.Duration
}

func (c creepingClock) Now() time.Time {
	c.Advance(c.step)
	return c.FakeClock.Now()
}

// A lease whose trust window is already over when Acquire would return it
// is released and reported, never handed back as acquired.
func TestMemoryNeverReturnsAnEmptyWindow(t *testing.T) {
	clock := creepingClock{clockwork.NewFakeClock(), time.Millisecond}
	m := locks.NewMemory(locks.WithClock(clock))
	ctx := context.Background()
	res, err := m.Acquire(ctx, "k", locks.Options{TTL: time.Microsecond})
	if res.Acquired || !errors.Is(err, locks.ErrLeaseLost) {
		t.Fatalf("Acquire(ttl 1µs) on a clock that moves 1ms per read = %+v, %v; want ErrLeaseLost", res, err)
	}
	if _, held, _ := m.Inspect(ctx, "k"); held {
		t.Fatal("the refused lease is still held")
	}
	if res, err := m.Acquire(ctx, "k", locks.Options{TTL: time.Minute}); err != nil || !res.Acquired {
		t.Fatalf("Acquire(ttl 1m) = %+v, %v", res, err)
	}
}

// slowReply hands back each lease after its trust window has passed, as a
// reply delayed by the network or a paused process would.
type slowReply struct {
	locks.Locks
	clock *clockwork.FakeClock
}

func (s slowReply) Acquire(ctx context.Context, key string, opts locks.Options) (locks.Result, error) {
	res, err := s.Locks.Acquire(ctx, key, opts)
	s.clock.Advance(opts.TTL - locks.SafetyMargin(opts.TTL))
	return res, err
}

func TestWithLeaseNeverStartsFnAfterTheWindow(t *testing.T) {
	clock := clockwork.NewFakeClock()
	m := locks.NewMemory(locks.WithClock(clock))
	l := slowReply{m, clock}
	err := locks.RunWithLease(context.Background(), clock, l, "k", locks.Options{TTL: time.Minute}, func(context.Context, locks.Lease) error {
		t.Error("fn ran after the trust window had closed")
		return nil
	})
	if !errors.Is(err, locks.ErrLeaseLost) {
		t.Fatalf("WithLease = %v; want ErrLeaseLost", err)
	}
	// The key was handed back, not left to its backend expiry.
	if _, held, _ := m.Inspect(context.Background(), "k"); held {
		t.Fatal("the late lease is still held")
	}
}
