package main

import (
	"context"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// redis connects as the app does, with the flags winning over the
// environment. A command fails at the first refused connection rather than
// retrying like a starting app: an operator is waiting.
func (inv *invocation) redis(c context.Context) (*redislocks.Locks, *ctx.RedisLocks, error) {
	return redislocks.Connect(c, redislocks.Options{
		URL: inv.o.redisURL, Prefix: inv.o.redisPrefix, ConnectMaxAttempts: 1, MaxRetriesPerRequest: -1,
	})
}

// outbox opens the outbox store as the app does, with the flags winning
// over the environment.
func (inv *invocation) outbox(c context.Context) (*outbox.Postgres, error) {
	return outbox.OpenPostgres(c, outbox.PostgresOptions{URL: inv.o.databaseURL, Schema: inv.o.schema})
}

// fleet is what the schedule commands act through: a scheduler that is
// never started, on the fleet's Redis locks and ledger. Its Pause, Resume,
// RunNow, Runs and Schedules act on the shared ledger, as the app's do.
type fleet struct {
	ports *ctx.Ports
	sched *scheduler.Scheduler
}

func (inv *invocation) fleet(c context.Context) (*fleet, error) {
	l, rl, err := inv.redis(c)
	if err != nil {
		return nil, err
	}
	ports := &ctx.Ports{
		Locks: l, Ledger: redislocks.NewLedger(rl.Client, rl.Prefix), RedisLocks: rl,
		Clock: clockwork.NewRealClock(), Logger: zap.NewNop(),
	}
	return &fleet{ports: ports, sched: scheduler.New(ports)}, nil
}

func (f *fleet) close() { _ = f.ports.RedisLocks.Client.Close() }
