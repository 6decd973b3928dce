// Package metrics exports Beignet's Prometheus metrics: schedule runs and
// their tick lag, lease acquisitions, losses and renewal failures per
// backend, and each outbox drain's backlog and deliveries.
//
// Every label is bounded by the app's own configuration: schedule and task
// names, drain names, a handful of outcomes and one backend name. No label
// carries a lock key, a tick, a message id or an instance id, so a fleet's
// series count does not grow with its traffic (docs/observability.md counts
// them).
//
// Most apps add Provider to their providers list; New and its methods are
// for apps that wire Beignet by hand.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metric names. They are a contract: dashboards and alerts depend on them.
const (
	NameScheduleRuns         = "beignet_schedule_runs_total"
	NameScheduleRunDuration  = "beignet_schedule_run_duration_seconds"
	NameScheduleTickLag      = "beignet_schedule_tick_lag_seconds"
	NameLeaseAcquireDuration = "beignet_lease_acquire_duration_seconds"
	NameLeaseLost            = "beignet_lease_lost_total"
	NameLeaseRenewFailures   = "beignet_lease_renew_failures_total"
	NameOutboxPending        = "beignet_outbox_pending"
	NameOutboxOldestAge      = "beignet_outbox_oldest_pending_age_seconds"
	NameOutboxPublished      = "beignet_outbox_published_total"
	NameOutboxDead           = "beignet_outbox_dead"
)

// Names lists every metric this package exports.
var Names = []string{
	NameScheduleRuns, NameScheduleRunDuration, NameScheduleTickLag,
	NameLeaseAcquireDuration, NameLeaseLost, NameLeaseRenewFailures,
	NameOutboxPending, NameOutboxOldestAge, NameOutboxPublished, NameOutboxDead,
}

// Metrics holds Beignet's collectors. Its methods are safe for concurrent
// use.
type Metrics struct {
	runs        *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
	tickLag     *prometheus.HistogramVec
	runsBy      *series[runKey, prometheus.Counter]
	durationBy  *series[string, prometheus.Observer]
	lagBy       *series[string, prometheus.Observer]

	acquire       *acquireVec
	leaseLost     *prometheus.CounterVec
	renewFailures *prometheus.CounterVec
	renewals      *renewals

	published *prometheus.CounterVec
	outbox    *outboxCollector
}

// Buckets of the duration histograms, in seconds: from a loopback Redis
// round trip to a long batch job.
var (
	runBuckets     = []float64{.005, .025, .1, .5, 1, 5, 30, 120, 600, 3600}
	lagBuckets     = []float64{.001, .01, .05, .1, .25, .5, 1, 2.5, 5, 15, 60}
	acquireBuckets = []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5, 30}
)

// New registers Beignet's collectors on reg (prometheus.DefaultRegisterer
// when nil). It fails if any of them is already registered there.
func New(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: NameScheduleRuns,
			Help: "Runs of each schedule and passes of each task on this instance, by outcome (ran, failed, timed-out, lease-lost, panicked, skipped-held, missed).",
		}, []string{"schedule", "outcome"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    NameScheduleRunDuration,
			Help:    "How long each run took on this instance, lease included.",
			Buckets: runBuckets,
		}, []string{"schedule"}),
		tickLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    NameScheduleTickLag,
			Help:    "From a schedule's tick to the start of its run (jitter, a late wake-up, clock skew). Task passes have no tick and are left out.",
			Buckets: lagBuckets,
		}, []string{"schedule"}),
		acquire: newAcquireVec(prometheus.HistogramOpts{
			Name:    NameLeaseAcquireDuration,
			Help:    "Time an acquire took until the lease was acquired or given up (including its Wait), by backend and acquired (true, false, error).",
			Buckets: acquireBuckets,
		}),
		leaseLost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: NameLeaseLost,
			Help: "Leases lost by their holder: WithLease stopped fn because ownership could no longer be trusted, or a Renew or Release found the lease gone (expired or someone else's).",
		}, []string{"backend"}),
		renewFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: NameLeaseRenewFailures,
			Help: "Lease renewals that failed with an error (the backend could not confirm ownership).",
		}, []string{"backend"}),
		renewals: &renewals{},
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: NameOutboxPublished,
			Help: "Publish attempts of each outbox drain on this instance, by outcome (published, retry, dead).",
		}, []string{"drain", "outcome"}),
		outbox: newOutboxCollector(),
	}
	m.initScheduleSeries()
	for _, c := range []prometheus.Collector{m.runs, m.runDuration, m.tickLag, m.acquire, m.leaseLost, m.renewFailures, m.published, m.outbox} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
