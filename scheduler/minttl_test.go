package scheduler_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// A lease TTL the backend refuses (Redis: under redislocks.MinTTL) is
// refused by Add and AddTask, once, rather than failing every tick or pass.
func TestLeaseTTLBelowTheBackendsMinimumIsRefused(t *testing.T) {
	c := redistest.SharedClient(t)
	prefix := redistest.UniquePrefix(t, c)
	s := scheduler.New(&ctx.Ports{
		Locks:  redislocks.New(c, prefix),
		Ledger: redislocks.NewLedger(c, prefix),
		Clock:  clockwork.NewFakeClock(),
		Logger: zaptest.NewLogger(t),
	})
	ttl := redislocks.MinTTL - time.Millisecond
	err := s.Add("short", "@every 1m", func(*ctx.Context) error { return nil }, scheduler.LeaseTTL(ttl))
	if !errors.Is(err, scheduler.ErrInvalidOption) || !errors.Is(err, locks.ErrInvalidTTL) {
		t.Fatalf("Add with LeaseTTL(%v) = %v, want ErrInvalidOption wrapping locks.ErrInvalidTTL", ttl, err)
	}
	err = s.AddTask(scheduler.Task{Name: "short-task", Key: "short-task", Interval: time.Minute, TTL: ttl,
		Run: func(context.Context, locks.Lease) error { return nil }})
	if !errors.Is(err, scheduler.ErrInvalidOption) || !errors.Is(err, locks.ErrInvalidTTL) {
		t.Fatalf("AddTask with TTL %v = %v, want ErrInvalidOption wrapping locks.ErrInvalidTTL", ttl, err)
	}
	if err := s.Add("ok", "@every 1m", func(*ctx.Context) error { return nil }, scheduler.LeaseTTL(redislocks.MinTTL)); err != nil {
		t.Fatalf("Add with LeaseTTL(MinTTL) = %v", err)
	}
}
