package metrics_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/testports"
	"github.com/beignet-go/beignet/locks"
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

// acquireCount returns the sample count of the acquire histogram's series
// acquired=result.
func acquireCount(t *testing.T, reg *prometheus.Registry, result string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != metrics.NameLeaseAcquireDuration {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelOf(m, "acquired") == result {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

// A caller that gives up (its ctx cancelled) while waiting for a held
// lease did not acquire it, and the backend did not fail: the acquire is
// observed as acquired="false", for the time it waited. acquired="error"
// is documented as "the backend failed", which a dashboard and an alert
// read as such.
func TestAcquireGivenUpByCancelIsNotAnError(t *testing.T) {
	clock := clockwork.NewFakeClock()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	l := m.Instrument(locks.NewMemory(locks.WithClock(clock)), clock, "")
	held, err := l.Acquire(context.Background(), "k", locks.Options{TTL: time.Hour})
	if err != nil || !held.Acquired {
		t.Fatalf("first acquire: %+v, %v", held, err)
	}
	// A wait cut short by cancellation.
	cctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.Acquire(cctx, "k", locks.Options{TTL: time.Minute, Wait: time.Minute})
		done <- err
	}()
	blockUntil(t, clock, 1) // the waiter's timer
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v, want context.Canceled", err)
	}
	// A single try on an already cancelled ctx.
	if _, err := l.Acquire(cctx, "k", locks.Options{TTL: time.Minute}); !errors.Is(err, context.Canceled) {
		t.Fatalf("try on a cancelled ctx: %v", err)
	}
	if got := acquireCount(t, reg, "error"); got != 0 {
		t.Errorf("acquired=\"error\" has %d samples, want 0: no backend failed", got)
	}
	if got := acquireCount(t, reg, "false"); got != 2 {
		t.Errorf("acquired=\"false\" has %d samples, want 2 (the two acquires given up)", got)
	}
}
