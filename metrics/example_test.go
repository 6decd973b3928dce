package metrics_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/fx"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/health"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/metrics"
)

// An app lists metrics.Provider with its other providers and serves the
// registry; health.Provider adds the readiness checks, lease renewals
// included.
func ExampleProvider() {
	reg := prometheus.NewRegistry()
	app := beignet.New(
		metrics.Provider(metrics.Registerer(reg)),
		health.Provider(),
		fx.Invoke(func(checks health.Checks) {
			mux := http.NewServeMux()
			mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
			mux.Handle("/readyz", health.Handler(checks...))
			// ... serve mux for the app's lifetime.
		}),
	)
	_ = app
}

// Without fx: instrument a Locks adapter and read the registry.
func ExampleMetrics_Instrument() {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		panic(err)
	}
	l := m.Instrument(locks.NewMemory(), nil, "")
	ctx := context.Background()
	res, err := l.Acquire(ctx, "report:render", locks.Options{TTL: time.Minute})
	if err != nil || !res.Acquired {
		panic(err)
	}
	_ = res.Lease.Release(ctx)
	fmt.Println(metrics.BackendName(l), testutil.CollectAndCount(reg, metrics.NameLeaseAcquireDuration))
	// Output: memory 3
}
