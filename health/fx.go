package health

import (
	"fmt"

	"go.uber.org/fx"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/scheduler"
)

// ChecksGroup is the fx value group of extra Checks that Provider adds to
// the built-in ones. metrics.Provider contributes "lease-renewals" when the
// Locks adapter cannot report its renewals itself (locks.RenewalNotifier).
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
// loops, lease renewals (Renewals) when the Locks adapter is a
// locks.RenewalNotifier (the memory and Redis adapters are), and every
// Check in ChecksGroup. Serve them with Handler(checks...). Two checks of
// one name are an error, since /readyz's body could show only one.
func Provider() fx.Option {
	return fx.Provide(func(in checksIn) (Checks, error) {
		var cs Checks
		if n, ok := renewalNotifier(in.Ports.Locks); ok {
			cs = append(cs, Renewals(n, in.Ports.Clock))
		}
		if in.Ports.RedisLocks != nil {
			cs = append(cs, Redis(in.Ports.RedisLocks.Client))
		}
		if pg, ok := in.Store.(*outbox.Postgres); ok {
			cs = append(cs, Postgres(pg.Pool()))
		}
		if in.Scheduler != nil {
			cs = append(cs, Scheduler(in.Scheduler))
		}
		cs = append(cs, in.Extra...)
		seen := make(map[string]bool, len(cs))
		for _, c := range cs {
			if seen[c.Name] {
				return nil, fmt.Errorf("health: two checks named %q", c.Name)
			}
			seen[c.Name] = true
		}
		return cs, nil
	})
}

// AddCheck contributes c to the app's Checks.
func AddCheck(c Check) fx.Option {
	return fx.Supply(fx.Annotated{Group: ChecksGroup, Target: c})
}
