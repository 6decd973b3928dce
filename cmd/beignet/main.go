// Command beignet lets an operator see and steer a Beignet fleet: its
// schedules and their runs, the live leases, and the outbox's backlog and
// dead letters.
//
//	go run ./cmd/beignet schedules
//	go run ./cmd/beignet runs daily-report --limit 5
//	go run ./cmd/beignet leases 'schedule:*' --json
//	go run ./cmd/beignet outbox retry --all-dead
//
// It reads REDIS_LOCKS_URL, REDIS_LOCKS_PREFIX and DATABASE_URL (and the
// other variables the app reads) as the app does; flags override them.
// Every command prints a table, or one JSON document with --json. It exits
// 0 on success, 1 when a server cannot be reached or the command fails, and
// 2 on bad usage.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/redis/go-redis/v9"
)

// quietRedis drops go-redis's own log lines: the command reports the error
// it gets back, in one line, and a retry log would bury it.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func main() {
	redis.SetLogger(quietRedis{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
