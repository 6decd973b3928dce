package metrics_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/testports"
	"github.com/beignet-go/beignet/metrics"
	"github.com/beignet-go/beignet/scheduler"
)

// histogramSeries returns the sample count and sum of name{schedule=s}.
func histogramSeries(t *testing.T, reg *prometheus.Registry, name, schedule string) (uint64, float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelOf(m, "schedule") == schedule {
				return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
			}
		}
	}
	return 0, 0
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// A retried run starts its second attempt a backoff after the first
// failed; that wait is the retry policy's, not the tick's lag. The lag
// histogram gets one observation per tick (the first attempt's), so a
// lag alert does not fire on every retry.
func TestTickLagLeavesOutRetries(t *testing.T) {
	tp := testports.CreateTestPorts(t)
	tp.Clock.Advance(time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC).Sub(tp.Clock.Now()))
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	ports := *tp.Ports
	ports.Locks = m.Instrument(tp.Ports.Locks, tp.Clock, "")
	rec := newReports()
	var calls atomic.Int32
	s := scheduler.New(&ports, scheduler.WithLocation(time.UTC), scheduler.WithHook(m), scheduler.WithHook(rec))
	if err := s.Add("flaky", "* * * * *", func(*ctx.Context) error {
		if calls.Add(1) == 1 {
			return errors.New("first attempt fails")
		}
		return nil
	}, scheduler.Retry(2, 20*time.Second, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopScheduler(t, s) })
	tp.Advance(30 * time.Second) // 00:01:00: the tick, its failure
	tp.Advance(20 * time.Second) // the backoff: attempt 2 runs
	// Both attempts report once the tick's lease is let go.
	rec.wait(t, scheduler.Failed)
	rec.wait(t, scheduler.Ran)

	n, sum := histogramSeries(t, reg, metrics.NameScheduleTickLag, "flaky")
	if n != 1 || sum != 0 {
		t.Errorf("tick lag of flaky: %d samples summing %gs, want 1 sample of 0s (the tick's own run; the retry's backoff is no lag)", n, sum)
	}
}

func stopScheduler(t *testing.T, s *scheduler.Scheduler) {
	t.Helper()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Stop(sctx); err != nil {
		t.Error(err)
	}
}

// A tick skipped because the previous run still holds the schedule ran
// nothing: it is counted as skipped-held, but it is no run, so it adds
// nothing to the run duration or the tick lag histograms (else a slow
// schedule's skipped ticks would drag its duration quantiles to 0).
func TestSkippedTickIsNoRunDuration(t *testing.T) {
	tp := testports.CreateTestPorts(t)
	tp.Clock.Advance(time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC).Sub(tp.Clock.Now()))
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	ports := *tp.Ports
	ports.Locks = m.Instrument(tp.Ports.Locks, tp.Clock, "")
	rec := newReports()
	s := scheduler.New(&ports, scheduler.WithLocation(time.UTC), scheduler.WithHook(m), scheduler.WithHook(rec))
	release := make(chan struct{})
	if err := s.Add("slow", "* * * * *", func(c *ctx.Context) error {
		select {
		case <-release:
		case <-c.Done():
		}
		return nil
	}, scheduler.LeaseTTL(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopScheduler(t, s) })
	tp.Advance(30 * time.Second) // 00:01:00: the first run starts
	tp.Advance(time.Minute)      // 00:02:00: that run still holds the schedule
	tp.Advance(10 * time.Second) // past the tick's skew allowance: skipped
	rec.wait(t, scheduler.SkippedHeld)
	close(release)
	rec.wait(t, scheduler.Ran)

	for _, name := range []string{metrics.NameScheduleRunDuration, metrics.NameScheduleTickLag} {
		if n, _ := histogramSeries(t, reg, name, "slow"); n != 1 {
			t.Errorf("%s{schedule=slow} has %d samples, want 1 (the run; the skipped tick ran nothing)", name, n)
		}
	}
}
