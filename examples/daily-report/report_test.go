package main

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/fx"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/internal/testports"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/scheduler"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The app's own providers, on the fake clock of CreateTestPorts: advancing to
// 07:00 builds exactly one report and one outbox message, and a day later
// the second.
func TestDailyReportOncePerDay(t *testing.T) {
	t.Setenv("REDIS_LOCKS_URL", "")
	t.Setenv("DATABASE_URL", "")
	t.Setenv("REPORT_TZ", "UTC")
	tp := testports.CreateTestPorts(t)
	tp.Clock.Advance(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Sub(tp.Clock.Now()))

	runs := make(chan scheduler.Report, 10)
	var store *outbox.Memory
	var reports Reports
	app := beignet.New(append(Providers(Config{Instance: "test"}),
		fx.Decorate(func(clockwork.Clock) clockwork.Clock { return tp.Clock }),
		fx.Decorate(func(*zap.Logger) *zap.Logger { return zaptest.NewLogger(t) }),
		scheduler.Configure(scheduler.WithHook(scheduler.HookFunc(func(r scheduler.Report) {
			if r.Schedule == "daily-report" {
				runs <- r
			}
		}))),
		fx.Populate(&store, &reports),
	)...)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })

	day1 := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	advanceTo(t, tp, day1)
	expectRun(t, runs, day1)
	expectCounts(t, reports.(*memoryReports), store, 1)

	day2 := day1.Add(24 * time.Hour)
	advanceTo(t, tp, day2)
	expectRun(t, runs, day2)
	expectCounts(t, reports.(*memoryReports), store, 2)
}

// advanceTo moves the fake clock to at, one armed timer at a time so every
// schedule and the drain see each of their ticks.
func advanceTo(t *testing.T, tp *testports.TestPorts, at time.Time) {
	t.Helper()
	for tp.Clock.Now().Before(at) {
		// Three loops wait: two schedules and the outbox drain.
		bctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := tp.Clock.BlockUntilContext(bctx, 3); err != nil {
			cancel()
			t.Fatalf("waiting for the app's timers: %v", err)
		}
		cancel()
		step := min(time.Hour, at.Sub(tp.Clock.Now()))
		tp.Clock.Advance(step)
	}
}

func expectRun(t *testing.T, runs <-chan scheduler.Report, tick time.Time) {
	t.Helper()
	select {
	case r := <-runs:
		if r.Outcome != scheduler.Ran || !r.Tick.Equal(tick) {
			t.Fatalf("run = %+v, want ran at %v", r, tick)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no daily-report run at %v", tick)
	}
}

func expectCounts(t *testing.T, reports *memoryReports, store *outbox.Memory, n int) {
	t.Helper()
	if got := reports.count(); got != n {
		t.Fatalf("%d reports, want %d", got, n)
	}
	for id := int64(1); id <= int64(n); id++ {
		m, ok, _ := store.Get(context.Background(), id)
		if !ok || m.Topic != "report.ready" {
			t.Fatalf("outbox message %d = %+v, %v; want report.ready", id, m, ok)
		}
	}
	if _, ok, _ := store.Get(context.Background(), int64(n+1)); ok {
		t.Fatalf("more than %d outbox messages", n)
	}
}

func TestPDFStorageRefusesStaleTokens(t *testing.T) {
	s := NewPDFStorage()
	if err := s.Put("acme", 5, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("acme", 4, nil); err == nil {
		t.Fatal("a superseded holder's write was accepted")
	}
}
