package main

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/bsm/redislock"
	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// peer is one lock library as the harness drives it.
type peer struct {
	name string
	// pair acquires key once (no waiting) and releases it.
	pair func(ctx context.Context, key string) error
	// acquire takes key, waiting the library's recommended way, and
	// returns its release.
	acquire func(ctx context.Context, key string, wait bool) (release func(), err error)
}

var errNotAcquired = errors.New("not acquired")

const benchTTL = 10 * time.Second

func beignetPeer(c *redis.Client, prefix string) peer {
	l := redislocks.New(c, prefix)
	_ = l.Preload(context.Background())
	acquire := func(ctx context.Context, key string, wait bool) (func(), error) {
		o := locks.Options{TTL: benchTTL}
		if wait {
			o.Wait = time.Minute
		}
		res, err := l.Acquire(ctx, key, o)
		if err != nil {
			return nil, err
		}
		if !res.Acquired {
			return nil, errNotAcquired
		}
		return func() { _ = res.Lease.Release(context.Background()) }, nil
	}
	return peer{name: "beignet", acquire: acquire, pair: pairOf(acquire)}
}

func redsyncPeer(c *redis.Client, prefix string) peer {
	rs := redsync.New(goredis.NewPool(c))
	acquire := func(ctx context.Context, key string, wait bool) (func(), error) {
		opts := []redsync.Option{redsync.WithExpiry(benchTTL)}
		if !wait {
			opts = append(opts, redsync.WithTries(1))
		} // else: redsync's defaults (32 tries, 50-250 ms apart)
		m := rs.NewMutex(prefix+key, opts...)
		if err := m.LockContext(ctx); err != nil {
			return nil, err
		}
		return func() { _, _ = m.UnlockContext(context.Background()) }, nil
	}
	return peer{name: "redsync", acquire: acquire, pair: pairOf(acquire)}
}

func redislockPeer(c *redis.Client, prefix string, backoff time.Duration) peer {
	lc := redislock.New(c)
	acquire := func(ctx context.Context, key string, wait bool) (func(), error) {
		var opt *redislock.Options
		if wait {
			opt = &redislock.Options{RetryStrategy: redislock.LinearBackoff(backoff)}
		}
		lock, err := lc.Obtain(ctx, prefix+key, benchTTL, opt)
		if err != nil {
			return nil, err
		}
		return func() { _ = lock.Release(context.Background()) }, nil
	}
	name := "redislock"
	if backoff > 0 {
		name = "redislock " + backoff.String()
	}
	return peer{name: name, acquire: acquire, pair: pairOf(acquire)}
}

var baselineRelease = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

// baselinePeer is what a careful team writes by hand: SET NX PX and a
// compare-and-delete script, no fencing, no waiting.
func baselinePeer(c *redis.Client, prefix string) peer {
	_ = baselineRelease.Load(context.Background(), c)
	acquire := func(ctx context.Context, key string, _ bool) (func(), error) {
		tok := rand.Text()
		ok, err := c.SetNX(ctx, prefix+key, tok, benchTTL).Result()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errNotAcquired
		}
		return func() { _ = baselineRelease.Run(context.Background(), c, []string{prefix + key}, tok).Err() }, nil
	}
	return peer{name: "baseline", acquire: acquire, pair: pairOf(acquire)}
}

func pairOf(acquire func(context.Context, string, bool) (func(), error)) func(context.Context, string) error {
	return func(ctx context.Context, key string) error {
		release, err := acquire(ctx, key, false)
		if err != nil {
			return err
		}
		release()
		return nil
	}
}
