package metrics

import (
	"github.com/beignet-go/beignet/scheduler"
)

var _ scheduler.Hook = (*Metrics)(nil)

// OnRun implements scheduler.Hook: it counts the report and, for a run
// that began, observes its duration and its tick's lag.
func (m *Metrics) OnRun(r scheduler.Report) {
	m.runs.WithLabelValues(r.Schedule, string(r.Outcome)).Inc()
	if r.Start.IsZero() {
		return // no run began: a missed tick or a failed claim
	}
	m.runDuration.WithLabelValues(r.Schedule).Observe(r.Duration.Seconds())
	if !r.Task {
		m.tickLag.WithLabelValues(r.Schedule).Observe(max(r.Start.Sub(r.Tick).Seconds(), 0))
	}
}
