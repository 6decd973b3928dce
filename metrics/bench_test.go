package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/metrics"
	"github.com/beignet-go/beignet/scheduler"
)

// BenchmarkAcquireRelease is one uncontended memory acquire+release, bare
// and through the instrumenting decorator. Target: metrics add at most 10%.
func BenchmarkAcquireRelease(b *testing.B) {
	ctx := context.Background()
	opts := locks.Options{TTL: time.Minute}
	run := func(b *testing.B, l locks.Locks) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := l.Acquire(ctx, "bench", opts)
			if err != nil || !res.Acquired {
				b.Fatal(res, err)
			}
			_ = res.Lease.Release(ctx)
		}
	}
	b.Run("impl=bare", func(b *testing.B) { run(b, locks.NewMemory()) })
	b.Run("impl=metrics", func(b *testing.B) {
		m, err := metrics.New(prometheus.NewRegistry())
		if err != nil {
			b.Fatal(err)
		}
		run(b, m.Instrument(locks.NewMemory(), clockwork.NewRealClock(), ""))
	})
}

// BenchmarkRunLeases is the lease work and report of one scheduler run on
// memory locks (claim the tick, hold the run's lease with WithLease, report
// to the hooks), bare and with metrics: what metrics add to a run, less the
// handler.
func BenchmarkRunLeases(b *testing.B) {
	ctx := context.Background()
	tick := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	run := func(b *testing.B, l locks.Locks, hook scheduler.Hook) {
		b.ReportAllocs()
		noop := func(context.Context, locks.Lease) error { return nil }
		for b.Loop() {
			claim, err := l.Acquire(ctx, "schedule:bench:tick", locks.Options{TTL: time.Minute})
			if err != nil || !claim.Acquired {
				b.Fatal(claim, err)
			}
			start := time.Now()
			if err := l.WithLease(ctx, "schedule:bench", locks.Options{TTL: time.Minute}, noop); err != nil {
				b.Fatal(err)
			}
			hook.OnRun(scheduler.Report{Schedule: "bench", Tick: tick, Instance: "i", FencingToken: 1,
				Outcome: scheduler.Ran, Start: start, Duration: time.Since(start)})
			_ = claim.Lease.Release(ctx) // a real claim expires; releasing keeps the map small
		}
	}
	b.Run("impl=bare", func(b *testing.B) { run(b, locks.NewMemory(), scheduler.HookFunc(func(scheduler.Report) {})) })
	b.Run("impl=metrics", func(b *testing.B) {
		m, err := metrics.New(prometheus.NewRegistry())
		if err != nil {
			b.Fatal(err)
		}
		run(b, m.Instrument(locks.NewMemory(), clockwork.NewRealClock(), ""), m)
	})
}
