package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beignet-go/beignet/outbox"
)

var _ outbox.PublishHook = (*Metrics)(nil)

// OnPublish implements outbox.PublishHook.
func (m *Metrics) OnPublish(drain string, _ outbox.Message, outcome outbox.PublishOutcome) {
	m.published.WithLabelValues(drain, string(outcome)).Inc()
}

// statsTimeout bounds one scrape's backlog query.
const statsTimeout = 5 * time.Second

// WatchOutbox makes every scrape report store's backlog (pending, oldest
// pending age, dead) for each drain that publishes it: the drains named
// here, and any other that has claimed from the store. Every drain of a
// store publishes all of its messages, so they all report the same
// backlog.
func (m *Metrics) WatchOutbox(store outbox.Operator, drains ...string) {
	m.outbox.watch(store, drains)
}

// outboxCollector reads the backlog at scrape time, so the gauges are never
// staler than the scrape and cost nothing between scrapes.
type outboxCollector struct {
	pending, oldest, dead *prometheus.Desc

	mu     sync.Mutex
	stores []watched
}

type watched struct {
	store  outbox.Operator
	drains []string
}

func newOutboxCollector() *outboxCollector {
	return &outboxCollector{
		pending: prometheus.NewDesc(NameOutboxPending,
			"Messages waiting to be published, first attempt or retry.", []string{"drain"}, nil),
		oldest: prometheus.NewDesc(NameOutboxOldestAge,
			"Age of the oldest message waiting to be published; 0 when none waits.", []string{"drain"}, nil),
		dead: prometheus.NewDesc(NameOutboxDead,
			"Dead-lettered messages, waiting for an operator.", []string{"drain"}, nil),
	}
}

func (c *outboxCollector) watch(store outbox.Operator, drains []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stores = append(c.stores, watched{store: store, drains: drains})
}

// Describe implements prometheus.Collector.
func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.oldest
	ch <- c.dead
}

// Collect implements prometheus.Collector. A store that cannot be read
// reports an invalid metric, which fails the scrape visibly rather than
// reporting an empty outbox.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	stores := append([]watched(nil), c.stores...)
	c.mu.Unlock()
	for _, w := range stores {
		ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
		st, err := w.store.Stats(ctx)
		cancel()
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.pending, err)
			continue
		}
		seen := map[string]bool{}
		for _, d := range append(append([]string(nil), w.drains...), st.Drains...) {
			if seen[d] {
				continue
			}
			seen[d] = true
			ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(st.Pending+st.Retrying), d)
			ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, st.OldestPendingAge.Seconds(), d)
			ch <- prometheus.MustNewConstMetric(c.dead, prometheus.GaugeValue, float64(st.Dead), d)
		}
	}
}
