package health

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/scheduler"
)

// Redis fails while client's server does not answer PING.
func Redis(client redis.UniversalClient) Check {
	return Check{Name: "redis", Func: func(ctx context.Context) error {
		if err := client.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis unreachable: %w", err)
		}
		return nil
	}}
}

// Postgres fails while pool cannot reach its database.
func Postgres(pool *pgxpool.Pool) Check {
	return Check{Name: "postgres", Func: func(ctx context.Context) error {
		if err := pool.Ping(ctx); err != nil {
			return fmt.Errorf("postgres unreachable: %w", err)
		}
		return nil
	}}
}

// Scheduler fails while s is not running, or one of its loops has not
// turned within two of its intervals (scheduler.CheckLoops).
func Scheduler(s *scheduler.Scheduler) Check {
	return Check{Name: "scheduler", Func: func(context.Context) error { return s.CheckLoops() }}
}
