package main

import (
	"context"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/goleak"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/outbox"

	"github.com/beignet-go/beignet/internal/testserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testserver.Main(m)) }

// The whole app, its own Providers, on the fake clock: tp.App() runs it on
// tp's clock and logger, and Advance waits for its schedules and drain.
// Reaching 07:00 builds exactly one report, and the drain publishes its
// outbox message within the same Advance; the hour after adds nothing.
func TestDailyReportOncePerDay(t *testing.T) {
	t.Setenv("REDIS_LOCKS_URL", "")
	t.Setenv("DATABASE_URL", "")
	t.Setenv("REPORT_TZ", "UTC")
	day1 := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	tp := beignettest.CreateTestPorts(t, beignettest.StartAt(day1.Add(-time.Minute)))

	var store *outbox.Memory
	var reports Reports
	app := beignet.New(append(Providers(Config{Instance: "test", HTTPAddr: "127.0.0.1:0"}), tp.App(), fx.Populate(&store, &reports))...)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })

	tp.Advance(time.Minute)
	expectCounts(t, reports.(*memoryReports), store, 1)
	if _, ok := reports.(*memoryReports).get(day1); !ok {
		t.Fatalf("no report for %v", day1)
	}

	tp.Advance(time.Hour)
	expectCounts(t, reports.(*memoryReports), store, 1)
}

func expectCounts(t *testing.T, reports *memoryReports, store *outbox.Memory, n int) {
	t.Helper()
	if got := reports.count(); got != n {
		t.Fatalf("%d reports, want %d", got, n)
	}
	for id := int64(1); id <= int64(n); id++ {
		m, ok, _ := store.Get(context.Background(), id)
		// The drain published it within the same Advance.
		if !ok || m.Topic != "report.ready" || m.Status != outbox.Published {
			t.Fatalf("outbox message %d = %+v, %v; want report.ready, published", id, m, ok)
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
