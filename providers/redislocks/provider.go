package redislocks

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
)

// Provider contributes Ports.Locks (leases on Redis), Ports.Ledger (the
// fleet's run state, on the same client and prefix) and Ports.RedisLocks
// (the client and prefix) to a beignet app. Add it to providers.go:
//
//	redislocks.Provider(redislocks.Options{}) // configured from REDIS_LOCKS_*
//
// The app fails to start, naming the address, when Redis cannot be reached
// after ConnectMaxAttempts pings.
func Provider(opts Options) fx.Option {
	return fx.Module("redislocks",
		fx.Provide(func(lc fx.Lifecycle, clock clockwork.Clock, log *zap.Logger) (locks.Locks, *ctx.RedisLocks, error) {
			return provide(lc, clock, log, opts, os.Getenv)
		}),
		fx.Provide(provideLedger),
	)
}

// provideLedger builds the ledger on the provider's client. Claims lapse by
// Redis's clock, unless the app runs on a fake clock (a test), whose
// Advance must move them.
func provideLedger(lc fx.Lifecycle, clock clockwork.Clock, rl *ctx.RedisLocks) ledger.Ledger {
	var opts []ledger.Option
	if fake, ok := clock.(*clockwork.FakeClock); ok {
		opts = append(opts, ledger.WithClock(fake))
	}
	l := NewLedger(rl.Client, rl.Prefix, opts...)
	// After the locks' start hook, which has connected.
	lc.Append(fx.StartHook(l.Preload))
	return l
}

func provide(lc fx.Lifecycle, clock clockwork.Clock, log *zap.Logger, opts Options, getenv func(string) string) (locks.Locks, *ctx.RedisLocks, error) {
	o, err := opts.resolve(getenv)
	if err != nil {
		return nil, nil, err
	}
	client, owned, err := o.client()
	if err != nil {
		return nil, nil, err
	}
	l := New(client, o.Prefix, WithClock(clock), WithFenceTTL(o.FenceTTL))
	lc.Append(fx.Hook{
		OnStart: func(c context.Context) error {
			if err := connect(c, client, o.ConnectMaxAttempts); err != nil {
				return err
			}
			// Loading the scripts now keeps the first Acquire at one
			// round trip instead of EVALSHA, NOSCRIPT, EVAL.
			if err := l.Preload(c); err != nil {
				return err
			}
			log.Info("redislocks: connected", zap.String("redis", describe(client)), zap.String("prefix", o.Prefix))
			return nil
		},
		OnStop: func(context.Context) error {
			if owned {
				return client.Close()
			}
			return nil
		},
	})
	return l, &ctx.RedisLocks{Client: client, Prefix: o.Prefix}, nil
}

// connect pings until Redis answers, backing off between attempts.
func connect(c context.Context, client redis.UniversalClient, attempts int) error {
	delay := 100 * time.Millisecond
	var err error
	for i := 1; i <= attempts; i++ {
		if err = client.Ping(c).Err(); err == nil {
			return nil
		}
		if i == attempts {
			break
		}
		// Backoff is real time even under a fake app clock: it waits on
		// a network, not on schedule logic.
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-c.Done():
			t.Stop()
			return fmt.Errorf("redislocks: %s not reachable (start cancelled after %d attempts): %w", describe(client), i, err)
		}
		delay = min(2*delay, 2*time.Second)
	}
	return fmt.Errorf("redislocks: %s not reachable after %d attempts: %w", describe(client), attempts, err)
}

// describe names the server(s) a client talks to, for errors and logs.
func describe(client redis.UniversalClient) string {
	switch c := client.(type) {
	case *redis.Client:
		return "redis at " + c.Options().Addr
	case *redis.ClusterClient:
		return fmt.Sprintf("redis cluster %v", c.Options().Addrs)
	default:
		return fmt.Sprint(client)
	}
}

// Preload loads the Lua scripts (on every shard of a Cluster), so that later
// calls need a single round trip each.
func (l *Locks) Preload(c context.Context) error {
	for _, s := range allScripts {
		if err := s.Load(c, l.client).Err(); err != nil {
			return fmt.Errorf("redislocks: load scripts into %s: %w", describe(l.client), err)
		}
	}
	return nil
}
