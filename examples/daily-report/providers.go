package main

import (
	"cmp"
	"fmt"
	"os"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// Config is what the command line decides; everything else comes from the
// environment.
type Config struct {
	Demo     bool   // fast schedules, for `make run` and `make demo`
	Instance string // instance id in logs and lease metadata
	// HTTPAddr is where the admin page is served (default
	// BEIGNET_HTTP_ADDR, else DefaultHTTPAddr).
	HTTPAddr string
}

// Providers is the list of modules this app runs with. Copy it: each line is
// one capability.
func Providers(cfg Config) []fx.Option {
	reportSpec, renderSpec := specs(cfg)
	tz := envOr("REPORT_TZ", "UTC")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return []fx.Option{fx.Error(fmt.Errorf("daily-report: REPORT_TZ=%q: not a time zone (try UTC or Europe/Paris)", tz))}
	}

	opts := []fx.Option{
		scheduler.Configure(scheduler.WithLocation(loc), scheduler.WithInstanceID(cfg.Instance)),
	}

	// Locks: Redis when configured, else the in-memory default (one
	// process only).
	if os.Getenv(redislocks.EnvURL) != "" {
		opts = append(opts, redislocks.Provider(redislocks.Options{}))
	}

	// Business data and outbox: PostgreSQL when configured, else memory.
	if os.Getenv(outbox.EnvDatabaseURL) != "" {
		opts = append(opts,
			outbox.PostgresProvider(outbox.PostgresOptions{}),
			fx.Provide(newPostgresReports),
		)
	} else {
		opts = append(opts,
			outbox.MemoryProvider(),
			fx.Provide(newMemoryReports),
		)
	}

	return append(opts,
		fx.Provide(func() *Renderer {
			r := NewRenderer()
			r.narrate.Store(cfg.Demo) // make run shows one lease's life
			return r
		}),
		scheduler.ScheduleWith("daily-report", reportSpec,
			func(r Reports) scheduler.Handler { return DailyReport(r) },
			reportOptions()...),
		scheduler.ScheduleWith("render-pdfs", renderSpec,
			func(r *Renderer) scheduler.Handler { return r.RenderAll },
			scheduler.Timeout(5*time.Minute)),
		// Publishing to the log stands in for a broker or webhook:
		// swap in outbox.NewWebhookPublisher(url, nil) for real use.
		outbox.DrainWith("report-events", func(l *zap.Logger) outbox.Publisher { return outbox.LogPublisher{Logger: l} }),
		// The app's HTTP pages on BEIGNET_HTTP_ADDR: the admin page,
		// /metrics, /livez and /readyz.
		HTTP(cmp.Or(cfg.HTTPAddr, os.Getenv(EnvHTTPAddr), DefaultHTTPAddr)),
		Observability(),
		fx.Invoke(mountAdmin, announceAdmin),
		fx.Invoke(announce),
	)
}

// specs returns the daily-report and render-pdfs specs: daily and every 15
// minutes, or every few seconds for the demo, unless the environment says.
func specs(cfg Config) (report, render string) {
	if cfg.Demo {
		return envOr("REPORT_SCHEDULE", "*/5 * * * * *"), envOr("RENDER_SCHEDULE", "*/3 * * * * *")
	}
	return envOr("REPORT_SCHEDULE", "0 7 * * *"), envOr("RENDER_SCHEDULE", "*/15 * * * *")
}

// reportOptions are the daily report's schedule options. A failed build
// (the database briefly away, say) is tried twice more before the next
// tick, each attempt a record in the run ledger. Retrying is safe because
// reports are unique per period in the store: an attempt that half-ran
// and is tried again cannot make a second report.
func reportOptions() []scheduler.ScheduleOption {
	return []scheduler.ScheduleOption{
		scheduler.LeaseTTL(time.Minute),
		scheduler.Timeout(10 * time.Minute),
		scheduler.Retry(3, 30*time.Second, 5*time.Minute),
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func announce(log *zap.Logger, reports Reports) {
	log.Info("daily-report: providers", zap.String("reports", reports.Describe()))
}
