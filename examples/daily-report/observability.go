package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/fx"

	"github.com/beignet-go/beignet/health"
	"github.com/beignet-go/beignet/metrics"
)

// Observability adds Beignet's metrics and readiness checks and serves them
// on the app's mux: /metrics for Prometheus, /livez and /readyz for the
// orchestrator's probes.
//
// Each app gets its own registry (with the Go runtime's and the process's
// collectors) rather than the global default, so two apps in one test
// binary do not collide.
func Observability() fx.Option {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return fx.Options(
		metrics.Provider(metrics.Registerer(reg)),
		health.Provider(),
		fx.Invoke(func(mux *http.ServeMux, checks health.Checks) {
			mux.Handle("GET /metrics", metricsHandler(reg))
			probes := health.Handler(checks...)
			mux.Handle("GET /livez", probes)
			mux.Handle("GET /readyz", probes)
		}),
	)
}

// metricsHandler serves reg's metrics, and those it could gather when a
// collector fails: the outbox gauges fail while PostgreSQL is down, and
// promhttp's default would then answer 500 for the whole scrape, hiding
// the lease and run metrics (and the process's) for exactly as long as the
// outage an operator is watching. The failed gauges are simply absent;
// /readyz names the unreachable server.
func metricsHandler(reg prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
