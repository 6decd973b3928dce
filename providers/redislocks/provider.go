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
	"github.com/beignet-go/beignet/internal/backoff"
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
// after ConnectMaxAttempts pings (1.5 s for a refused connection with the
// defaults). While the app runs, go-redis's own log lines go through the
// app's zap logger.
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
	// Any clock that can be advanced is a test's fake (beignettest's
	// wraps a *clockwork.FakeClock to track its timers).
	if _, fake := clock.(interface{ Advance(time.Duration) }); fake {
		opts = append(opts, ledger.WithClock(clock))
	}
	l := NewLedger(rl.Client, rl.Prefix, opts...)
	// After the locks' start hook, which has connected.
	lc.Append(fx.StartHook(l.Preload))
	return l
}

func provide(lc fx.Lifecycle, clock clockwork.Clock, log *zap.Logger, opts Options, getenv func(string) string) (locks.Locks, *ctx.RedisLocks, error) {
	o, client, owned, err := opts.open(getenv)
	if err != nil {
		return nil, nil, err
	}
	l := New(client, o.Prefix, WithClock(clock), WithFenceTTL(o.FenceTTL))
	var unroute func()
	lc.Append(fx.Hook{
		OnStart: func(c context.Context) error {
			unroute = redisLog.add(log)
			err := connect(c, client, o.ConnectMaxAttempts)
			if err == nil {
				// Loading the scripts now keeps the first Acquire at one
				// round trip instead of EVALSHA, NOSCRIPT, EVAL.
				err = l.Preload(c)
			}
			if err != nil {
				// fx runs no OnStop for a hook whose OnStart failed.
				unroute()
				if owned {
					_ = client.Close()
				}
				return err
			}
			log.Info("redislocks: connected", zap.String("redis", describe(client)), zap.String("prefix", o.Prefix))
			return nil
		},
		OnStop: func(context.Context) error {
			defer unroute()
			if owned {
				return client.Close()
			}
			return nil
		},
	})
	return l, &ctx.RedisLocks{Client: client, Prefix: o.Prefix}, nil
}

// connect pings until Redis answers, on the connect policy every server
// shares: ConnectMaxAttempts pings, 100 ms doubling to 2 s between them.
// Each ping is a single dial, without go-redis's own dial and command
// retries, so a refused connection fails after the waits alone (1.5 s by
// default) rather than their product. go-redis's log lines about these
// dials are Debug: the error returned says it all once.
func connect(c context.Context, client redis.UniversalClient, attempts int) error {
	probe := client
	if rc, ok := client.(*redis.Client); ok {
		o := *rc.Options()
		o.MaxRetries, o.DialerRetries = -1, 1
		probe = redis.NewClient(&o)
		defer probe.Close()
	}
	defer redisLog.quiet()()
	err := backoff.Connect().Retry(c, attempts, func(c context.Context) error {
		return probe.Ping(c).Err()
	})
	if err != nil {
		return fmt.Errorf("redislocks: %s not reachable %w", describe(client), err)
	}
	return nil
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
	return warmPipelines(c, l.client)
}

// warmPipelines opens a connection of the client's pipeline pool, which
// every script goes out on (see batcher), so that the first operation
// does not pay for a connection's handshake inside its trust window.
func warmPipelines(c context.Context, client redis.UniversalClient) error {
	if _, err := client.Pipelined(c, func(p redis.Pipeliner) error { p.Ping(c); return nil }); err != nil {
		return fmt.Errorf("redislocks: open a pipeline connection to %s: %w", describe(client), err)
	}
	return nil
}
