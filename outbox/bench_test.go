package outbox_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/scheduler"
)

// BenchmarkDrainThroughput drains b.N messages from PostgreSQL with one
// drainer and a no-op publisher, batches of 100. Reports msgs/s.
// Target: at least 5,000/s.
func BenchmarkDrainThroughput(b *testing.B) {
	pool := testPool(b)
	store := newPostgres(b, pool)
	ctxb := context.Background()
	// Enqueue outside the timer, in chunks of 1,000 per transaction.
	for done := 0; done < b.N; {
		tx, err := pool.Begin(ctxb)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 1000 && done < b.N; i, done = i+1, done+1 {
			if _, err := store.Enqueue(ctxb, tx, outbox.Message{Topic: "bench", Payload: []byte(`{"n":1}`)}); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(ctxb); err != nil {
			b.Fatal(err)
		}
	}
	noop := outbox.PublisherFunc(func(context.Context, outbox.Message) error { return nil })
	clock := clockwork.NewFakeClockAt(time.Now().Add(time.Hour))
	d, err := outbox.NewDrainer("bench", store, noop, clock, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	l := locks.NewMemory(locks.WithClock(clock))
	b.ResetTimer()
	start := time.Now()
	if err := l.WithLease(ctxb, d.LeaseKey(), locks.Options{TTL: time.Hour}, d.Pass); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkNotifyLatency measures commit-to-publish latency when the drain
// is idle and woken by NOTIFY (its interval is an hour). Reports p50/p99.
func BenchmarkNotifyLatency(b *testing.B) {
	pool := testPool(b)
	store := newPostgres(b, pool)
	ctxb := context.Background()
	published := make(chan time.Time, 1)
	pub := outbox.PublisherFunc(func(context.Context, outbox.Message) error {
		published <- time.Now()
		return nil
	})
	clock := clockwork.NewRealClock()
	d, _ := outbox.NewDrainer("bench", store, pub, clock, zap.NewNop(), outbox.Interval(time.Hour))
	wake, unsubscribe := store.Subscribe()
	defer unsubscribe()
	s := scheduler.New(&ctx.Ports{Locks: locks.NewMemory(), Clock: clock, Logger: zap.NewNop()})
	_ = s.AddTask(d.Task(wake))
	_ = s.Start()
	defer s.Stop(ctxb)

	lat := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		tx, _ := pool.Begin(ctxb)
		if _, err := store.Enqueue(ctxb, tx, outbox.Message{Topic: "bench"}); err != nil {
			b.Fatal(err)
		}
		committed := time.Now()
		if err := tx.Commit(ctxb); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-published:
			lat = append(lat, at.Sub(committed))
		case <-time.After(10 * time.Second):
			b.Fatal("not published")
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
