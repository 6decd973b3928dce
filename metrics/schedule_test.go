package metrics_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/testports"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/metrics"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/scheduler"
)

// reports collects scheduler reports for a test to wait on.
type reports struct {
	ch   chan scheduler.Report
	seen map[scheduler.Outcome]int // only touched by the test goroutine
}

func newReports() *reports {
	return &reports{ch: make(chan scheduler.Report, 100), seen: map[scheduler.Outcome]int{}}
}

func (r *reports) OnRun(rep scheduler.Report) { r.ch <- rep }

// wait returns once a report of outcome o has arrived, in whatever order
// the runs finished.
func (r *reports) wait(t *testing.T, o scheduler.Outcome) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for r.seen[o] == 0 {
		select {
		case rep := <-r.ch:
			r.seen[rep.Outcome]++
		case <-timeout:
			t.Fatalf("no %s report; have %v", o, r.seen)
		}
	}
}

func blockUntil(t *testing.T, c *clockwork.FakeClock, n int) {
	t.Helper()
	bctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.BlockUntilContext(bctx, n); err != nil {
		t.Fatalf("waiting for %d timers: %v", n, err)
	}
}

// One run of each outcome on the fake clock: a run that ran, one that
// failed, one that timed out and one whose lease was lost. The registry
// then holds exactly those counts, a tick lag of 0 for each (the clock did
// not move between tick and run) and 4 acquisitions (the runs' leases; tick
// claims are in the ledger), with one lost lease.
func TestScheduleMetrics(t *testing.T) {
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
	add := func(name string, h scheduler.Handler, opts ...scheduler.ScheduleOption) {
		t.Helper()
		if err := s.Add(name, "* * * * *", h, opts...); err != nil {
			t.Fatal(err)
		}
	}
	add("ok", func(*ctx.Context) error { return nil })
	add("fails", func(*ctx.Context) error { return errors.New("boom") })
	// The scheduler arms a run's Timeout before it calls the handler, so
	// once slow's handler runs, an Advance of the Timeout fires it.
	slowRunning := make(chan struct{})
	add("slow", func(c *ctx.Context) error { close(slowRunning); <-c.Done(); return c.Err() }, scheduler.Timeout(10*time.Second))
	victimRunning := make(chan struct{})
	add("victim", func(c *ctx.Context) error { close(victimRunning); <-c.Done(); return nil }, scheduler.LeaseTTL(30*time.Second))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Stop(sctx)
	})

	blockUntil(t, tp.Clock, 4)
	tp.Clock.Advance(30 * time.Second) // 00:01:00, every schedule's tick
	rec.wait(t, scheduler.Ran)
	rec.wait(t, scheduler.Failed)
	<-victimRunning
	// Waiting for slow's handler, not for a count of timers: other
	// timers (the runs' claim keep-alives, the heartbeat) come and go, and
	// a count reached before slow's Timeout was armed left it unfired.
	<-slowRunning
	tp.Clock.Advance(10 * time.Second)
	rec.wait(t, scheduler.TimedOut)
	// victim's renewal fails to get through before its trust window ends.
	blockUntil(t, tp.Clock, 5)
	tp.Clock.Advance(31 * time.Second)
	rec.wait(t, scheduler.LeaseLost)

	want := `
# HELP beignet_schedule_runs_total Runs of each schedule and passes of each task on this instance, by outcome (ran, failed, timed-out, lease-lost, panicked, skipped-held, missed).
# TYPE beignet_schedule_runs_total counter
beignet_schedule_runs_total{outcome="failed",schedule="fails"} 1
beignet_schedule_runs_total{outcome="lease-lost",schedule="victim"} 1
beignet_schedule_runs_total{outcome="ran",schedule="ok"} 1
beignet_schedule_runs_total{outcome="timed-out",schedule="slow"} 1
# HELP beignet_lease_lost_total Leases lost by their holder: WithLease stopped fn because ownership could no longer be trusted, or a Renew or Release found the lease gone (expired or someone else's).
# TYPE beignet_lease_lost_total counter
beignet_lease_lost_total{backend="memory"} 1
# HELP beignet_schedule_tick_lag_seconds From a schedule's tick to the start of its run (jitter, a late wake-up, clock skew). Task passes have no tick and are left out.
# TYPE beignet_schedule_tick_lag_seconds histogram
`
	lagBuckets := []float64{.001, .01, .05, .1, .25, .5, 1, 2.5, 5, 15, 60}
	for _, name := range []string{"fails", "ok", "slow", "victim"} {
		want += histogram(metrics.NameScheduleTickLag, `schedule="`+name+`"`, lagBuckets, 1, 0)
	}
	want += `# HELP beignet_lease_acquire_duration_seconds Time an acquire took until the lease was acquired or given up (including its Wait), by backend and acquired (true, false, error).
# TYPE beignet_lease_acquire_duration_seconds histogram
`
	// Instrument creates every series of its backend at once, so that
	// rates and absence alerts work before the first failure.
	acquireBuckets := []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5, 30}
	want += histogram(metrics.NameLeaseAcquireDuration, `acquired="error",backend="memory"`, acquireBuckets, 0, 0)
	want += histogram(metrics.NameLeaseAcquireDuration, `acquired="false",backend="memory"`, acquireBuckets, 0, 0)
	want += histogram(metrics.NameLeaseAcquireDuration, `acquired="true",backend="memory"`, acquireBuckets, 4, 0)
	// Durations on the fake clock: ok and fails return at once; slow
	// runs until its 10 s timeout; victim from its start at 00:01:00 until
	// the clock stepped to 00:01:41, in whose step its lease was lost.
	want += `# HELP beignet_schedule_run_duration_seconds How long each run took on this instance, lease included.
# TYPE beignet_schedule_run_duration_seconds histogram
`
	runBuckets := []float64{.005, .025, .1, .5, 1, 5, 30, 120, 600, 3600}
	want += histogramOf(metrics.NameScheduleRunDuration, `schedule="fails"`, runBuckets, 0)
	want += histogramOf(metrics.NameScheduleRunDuration, `schedule="ok"`, runBuckets, 0)
	want += histogramOf(metrics.NameScheduleRunDuration, `schedule="slow"`, runBuckets, 10)
	want += histogramOf(metrics.NameScheduleRunDuration, `schedule="victim"`, runBuckets, 41)
	if err := testutil.CollectAndCompare(reg, strings.NewReader(want),
		metrics.NameScheduleRuns, metrics.NameLeaseLost, metrics.NameScheduleTickLag, metrics.NameLeaseAcquireDuration,
		metrics.NameScheduleRunDuration); err != nil {
		t.Error(err)
	}
}

// Every metric the package documents is exported, no other, and
// registering twice on one registry fails instead of double counting.
func TestNewRegistersEveryName(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Instrument(locks.NewMemory(), nil, "")
	m.WatchOutbox(outbox.NewMemory(), "events")
	m.OnRun(scheduler.Report{Schedule: "s", Outcome: scheduler.Ran, Start: time.Now()})
	m.OnPublish("events", outbox.Message{}, outbox.OutcomePublished)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range mfs {
		got = append(got, mf.GetName())
	}
	want := slices.Sorted(slices.Values(metrics.Names))
	if !slices.Equal(got, want) {
		t.Errorf("gathered %v, want %v", got, want)
	}
	if _, err := metrics.New(reg); err == nil {
		t.Error("a second New on the same registry succeeded")
	}
	var ar prometheus.AlreadyRegisteredError
	if _, err := metrics.New(reg); !errors.As(err, &ar) {
		t.Errorf("second New: %v, want an AlreadyRegisteredError", err)
	}
}
