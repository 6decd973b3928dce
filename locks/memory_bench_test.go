package locks_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beignet-go/beignet/locks"
)

// BenchmarkMemoryAcquireRelease is one uncontended acquire+release pair.
// Target: at most 300 ns/op and 2 allocs/op.
func BenchmarkMemoryAcquireRelease(b *testing.B) {
	m := locks.NewMemory()
	ctx := context.Background()
	opts := locks.Options{TTL: time.Minute}
	b.ReportAllocs()
	for b.Loop() {
		res, err := m.Acquire(ctx, "bench", opts)
		if err != nil || !res.Acquired {
			b.Fatal(res, err)
		}
		_ = res.Lease.Release(ctx)
	}
}

// BenchmarkMemoryParallelDistinctKeys has every goroutine cycle its own key.
func BenchmarkMemoryParallelDistinctKeys(b *testing.B) {
	m := locks.NewMemory()
	ctx := context.Background()
	opts := locks.Options{TTL: time.Minute}
	var id atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		key := "bench-" + strconv.FormatInt(id.Add(1), 10)
		for pb.Next() {
			res, err := m.Acquire(ctx, key, opts)
			if err != nil || !res.Acquired {
				b.Error(res, err)
				return
			}
			_ = res.Lease.Release(ctx)
		}
	})
}

// BenchmarkMemoryContendedWait has every goroutine queue for one key with
// Wait, so each op includes a hand-off.
func BenchmarkMemoryContendedWait(b *testing.B) {
	m := locks.NewMemory()
	ctx := context.Background()
	opts := locks.Options{TTL: time.Minute, Wait: time.Minute}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := m.Acquire(ctx, "hot", opts)
			if err != nil || !res.Acquired {
				b.Error(res, err)
				return
			}
			_ = res.Lease.Release(ctx)
		}
	})
}
