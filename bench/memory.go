package main

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beignet-go/beignet/locks"
)

// measureMemory benchmarks the in-memory adapter, uncontended and with every
// CPU cycling its own key.
func measureMemory(r *results, runs int) {
	ctx := context.Background()
	opts := locks.Options{TTL: time.Minute}
	for i := 0; i < runs; i++ {
		res := testing.Benchmark(func(b *testing.B) {
			m := locks.NewMemory()
			b.ReportAllocs()
			for b.Loop() {
				l, _ := m.Acquire(ctx, "k", opts)
				_ = l.Lease.Release(ctx)
			}
		})
		r.add("mem/ns", float64(res.NsPerOp()))
		r.add("mem/allocs", float64(res.AllocsPerOp()))
		par := testing.Benchmark(func(b *testing.B) {
			m := locks.NewMemory()
			var id atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				key := "k" + strconv.FormatInt(id.Add(1), 10)
				for pb.Next() {
					l, _ := m.Acquire(ctx, key, opts)
					_ = l.Lease.Release(ctx)
				}
			})
		})
		r.add("mempar/ns", float64(par.NsPerOp()))
		r.add("mempar/allocs", float64(par.AllocsPerOp()))
	}
}
