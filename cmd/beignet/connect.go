package main

import (
	"context"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/providers/redislocks"
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
