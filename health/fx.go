package health

import (
	"go.uber.org/fx"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/scheduler"
)

// ChecksGroup is the fx value group of extra Checks that Provider adds to
// the built-in ones. metrics.Provider contributes "lease-renewals".
const ChecksGroup = "beignet.health.checks"

// Checks are an app's readiness conditions, as Provider assembles them.
type Checks []Check

type checksIn struct {
	fx.In
	Ports     *ctx.Ports
	Scheduler *scheduler.Scheduler `optional:"true"`
	Store     outbox.Store         `optional:"true"`
	Extra     []Check              `group:"beignet.health.checks"`
}

// Provider provides the app's Checks: Redis when the Redis locks provider
// is registered, PostgreSQL when the outbox runs on it, the scheduler's
// loops, and every Check in ChecksGroup. Serve them with Handler(checks...).
func Provider() fx.Option {
	return fx.Provide(func(in checksIn) Checks {
		var cs Checks
		if in.Ports.RedisLocks != nil {
			cs = append(cs, Redis(in.Ports.RedisLocks.Client))
		}
		if pg, ok := in.Store.(*outbox.Postgres); ok {
			cs = append(cs, Postgres(pg.Pool()))
		}
		if in.Scheduler != nil {
			cs = append(cs, Scheduler(in.Scheduler))
		}
		return append(cs, in.Extra...)
	})
}

// AddCheck contributes c to the app's Checks.
func AddCheck(c Check) fx.Option {
	return fx.Supply(fx.Annotated{Group: ChecksGroup, Target: c})
}
