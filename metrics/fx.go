package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/health"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/scheduler"
)

type config struct {
	reg     prometheus.Registerer
	backend string
}

// Option configures Provider.
type Option func(*config)

// Registerer registers the collectors on reg instead of
// prometheus.DefaultRegisterer (an app's own registry, or a test's).
func Registerer(reg prometheus.Registerer) Option { return func(c *config) { c.reg = reg } }

// Backend sets the backend label of lease metrics (default: from the Locks
// adapter's type, see BackendName).
func Backend(name string) Option { return func(c *config) { c.backend = name } }

type decorateIn struct {
	fx.In
	Ports   *ctx.Ports
	Metrics *Metrics
}

type watchIn struct {
	fx.In
	Metrics *Metrics
	Store   outbox.Store `optional:"true"`
	Drains  []string     `group:"beignet.outbox.drains"`
}

// Provider registers Beignet's metrics and instruments the app: every
// scheduler run and task pass, every lease taken through Ports.Locks, every
// outbox drain's publishes, and the outbox store's backlog at scrape time.
// It provides the *Metrics and, for a Locks adapter that does not report
// its renewals to health.Provider itself (locks.RenewalNotifier), adds its
// own "lease-renewals" check to health.Provider's checks. Serve the registry with promhttp.
func Provider(opts ...Option) fx.Option {
	var c config
	for _, o := range opts {
		o(&c)
	}
	return fx.Options(
		fx.Provide(
			func() (*Metrics, error) { return New(c.reg) },
			fx.Annotate(func(m *Metrics) scheduler.Option { return scheduler.WithHook(m) },
				fx.ResultTags(`group:"`+scheduler.OptionsGroup+`"`)),
			fx.Annotate(func(m *Metrics) outbox.PublishHook { return m },
				fx.ResultTags(`group:"`+outbox.PublishHooksGroup+`"`)),
			// health.Provider has its own "lease-renewals" check on
			// adapters that report renewals (locks.RenewalNotifier);
			// this one covers the others.
			fx.Annotate(func(m *Metrics, p *ctx.Ports) []health.Check {
				if reportsRenewals(p.Locks) {
					return nil
				}
				return []health.Check{{Name: health.RenewalsCheckName, Func: m.CheckRenewals}}
			}, fx.ResultTags(`group:"`+health.ChecksGroup+`,flatten"`)),
		),
		// Everything that takes Ports, the scheduler included, gets the
		// instrumented Locks.
		fx.Decorate(func(in decorateIn) *ctx.Ports {
			p := *in.Ports
			p.Locks = in.Metrics.Instrument(p.Locks, p.Clock, c.backend)
			return &p
		}),
		fx.Invoke(func(in watchIn) {
			if op, ok := in.Store.(outbox.Operator); ok {
				in.Metrics.WatchOutbox(op, in.Drains...)
			}
		}),
	)
}

// reportsRenewals reports whether the adapter under l's decorators is a
// locks.RenewalNotifier, whose renewals health.Provider checks itself.
func reportsRenewals(l locks.Locks) bool {
	for l != nil {
		if _, ok := l.(locks.RenewalNotifier); ok {
			return true
		}
		u, ok := l.(interface{ Unwrap() locks.Locks })
		if !ok {
			return false
		}
		l = u.Unwrap()
	}
	return false
}
