package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beignet-go/beignet/scheduler"
)

var _ scheduler.Hook = (*Metrics)(nil)

// series caches a vector's children by label values. Resolving a label
// set (hashing and validating its values) costs more than the observation
// itself, so each is resolved once, at its first use; a series still
// appears only once something is observed on it.
type series[K comparable, V any] struct {
	// A typed map under a read lock, not a sync.Map: that one hashes an
	// interface key and asserts an interface value on every read, which
	// cost more than this whole hook.
	mu      sync.RWMutex
	m       map[K]V
	resolve func(K) V
}

func (s *series[K, V]) get(k K) V {
	s.mu.RLock()
	v, ok := s.m[k]
	s.mu.RUnlock()
	if ok {
		return v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[k]; ok {
		return v
	}
	if s.m == nil {
		s.m = map[K]V{}
	}
	v = s.resolve(k)
	s.m[k] = v
	return v
}

type runKey struct {
	schedule string
	outcome  scheduler.Outcome
}

func (m *Metrics) initScheduleSeries() {
	m.runsBy = &series[runKey, prometheus.Counter]{resolve: func(k runKey) prometheus.Counter {
		return m.runs.WithLabelValues(k.schedule, string(k.outcome))
	}}
	m.durationBy = &series[string, prometheus.Observer]{resolve: func(name string) prometheus.Observer {
		return m.runDuration.WithLabelValues(name)
	}}
	m.lagBy = &series[string, prometheus.Observer]{resolve: func(name string) prometheus.Observer {
		return m.tickLag.WithLabelValues(name)
	}}
}

// OnRun implements scheduler.Hook: it counts the report and, for a run
// that began, observes its duration and, for a tick's first attempt, the
// tick's lag.
func (m *Metrics) OnRun(r scheduler.Report) {
	m.runsBy.get(runKey{r.Schedule, r.Outcome}).Inc()
	if r.Start.IsZero() || r.Outcome == scheduler.SkippedHeld {
		// No run began: a missed tick, a failed claim, or a tick skipped
		// because an earlier run held the schedule. A skipped tick's
		// "duration" is only its wait for the lease, and would drag a
		// slow schedule's duration quantiles towards 0.
		return
	}
	m.durationBy.get(r.Schedule).Observe(r.Duration.Seconds())
	// A retry starts a backoff after the tick, a takeover a lapse after
	// it: that is the retry policy or a crash, not lag, and would fire a
	// lag alert on every retry.
	if !r.Task && r.Attempt <= 1 {
		m.lagBy.get(r.Schedule).Observe(max(r.Start.Sub(r.Tick).Seconds(), 0))
	}
}
