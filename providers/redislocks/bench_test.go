package redislocks_test

import (
	"context"
	"crypto/rand"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// baselineRelease is the textbook compare-and-delete the bare go-redis
// baseline uses.
var baselineRelease = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

// BenchmarkParallelAcquireRelease compares acquire+release pairs on distinct
// keys (one per goroutine) against bare SET NX PX + compare-and-delete on the
// same server and client. Run with -cpu to vary the goroutine count.
func BenchmarkParallelAcquireRelease(b *testing.B) {
	c := newClient(b)
	c.Options().PoolSize = 64
	prefix := uniquePrefix(b, c)
	ctx := context.Background()

	b.Run("beignet", func(b *testing.B) {
		l := redislocks.New(c, prefix)
		if err := l.Preload(ctx); err != nil {
			b.Fatal(err)
		}
		var id atomic.Int64
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			key := "k" + strconv.FormatInt(id.Add(1), 10)
			opts := locks.Options{TTL: 10 * time.Second}
			for pb.Next() {
				res, err := l.Acquire(ctx, key, opts)
				if err != nil || !res.Acquired {
					b.Error(res, err)
					return
				}
				if err := res.Lease.Release(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("baseline-setnx", func(b *testing.B) {
		_ = baselineRelease.Load(ctx, c)
		var id atomic.Int64
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			key := "{" + prefix + ":base" + strconv.FormatInt(id.Add(1), 10) + "}"
			for pb.Next() {
				tok := rand.Text()
				ok, err := c.SetNX(ctx, key, tok, 10*time.Second).Result()
				if err != nil || !ok {
					b.Error(ok, err)
					return
				}
				if err := baselineRelease.Run(ctx, c, []string{key}, tok).Err(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkHandoff measures release-to-waiter-holding latency: a waiter
// blocks in Acquire with Wait, the holder releases, and the clock stops when
// Acquire returns. Reports p50 and p99 in µs.
func BenchmarkHandoff(b *testing.B) {
	c := newClient(b)
	l := redislocks.New(c, uniquePrefix(b, c))
	ctx := context.Background()
	if err := l.Preload(ctx); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		holder := mustAcquireB(b, l, "hot")
		type got struct {
			at    time.Time
			lease locks.Lease
		}
		ch := make(chan got, 1)
		go func() {
			res, err := l.Acquire(ctx, "hot", locks.Options{TTL: time.Minute, Wait: time.Minute})
			if err != nil || !res.Acquired {
				b.Error(res, err)
			}
			ch <- got{time.Now(), res.Lease}
		}()
		waitForSubscriber(b, c, l.LeaseKey("hot")+":released")
		released := time.Now()
		_ = holder.Release(ctx)
		g := <-ch
		lat = append(lat, g.at.Sub(released))
		if g.lease != nil {
			_ = g.lease.Release(ctx)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

func mustAcquireB(b *testing.B, l locks.Locks, key string) locks.Lease {
	res, err := l.Acquire(context.Background(), key, locks.Options{TTL: time.Minute})
	if err != nil || !res.Acquired {
		b.Fatal(res, err)
	}
	return res.Lease
}

// waitForSubscriber waits until the waiter is subscribed, so that what is
// measured is the hand-off and not the waiter's start-up.
func waitForSubscriber(b *testing.B, c *redis.Client, channel string) {
	for {
		n, err := c.PubSubNumSub(context.Background(), channel).Result()
		if err != nil {
			b.Fatal(err)
		}
		if n[channel] > 0 {
			return
		}
		<-time.After(100 * time.Microsecond)
	}
}
