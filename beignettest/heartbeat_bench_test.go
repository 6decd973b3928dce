package beignettest_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/scheduler"
)

// BenchmarkAdvanceDay measures one Advance of 24 h over a started scheduler
// holding one daily schedule: the scheduler's heartbeat must not make
// Advance step through every one of its wake-ups (8,640 a day at 10 s).
func BenchmarkAdvanceDay(b *testing.B) {
	tp := beignettest.CreateTestPorts(b)
	tp.Ports.Logger = zap.NewNop()
	s := scheduler.New(tp.Ports, scheduler.WithInstanceID("daily-1"))
	if err := s.Add("daily", "0 7 * * *", noop); err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Stop(context.Background()) })
	for b.Loop() {
		tp.Advance(24 * time.Hour)
	}
	if got := s.Counts("daily")[scheduler.Ran]; got != uint64(b.N) {
		b.Fatalf("%d daily runs after %d days", got, b.N)
	}
	if is, err := tp.Ledger.Instances(context.Background()); err != nil || len(is) != 1 {
		b.Fatalf("Instances after %d days = %+v, %v; want daily-1 listed", b.N, is, err)
	}
}
