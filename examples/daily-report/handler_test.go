package main

import (
	"testing"
	"time"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/scheduler"
)

// A handler's unit test: no scheduler, just the handler called with the run
// it would get, holding a real lease from the test's locks.
func TestDailyReportHandler(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	store := outbox.NewMemory(outbox.MemoryClock(tp.Clock))
	reports := newMemoryReports(store)

	res, err := tp.Locks.Acquire(t.Context(), "schedule:daily-report", locks.Options{TTL: time.Minute})
	if err != nil || !res.Acquired {
		t.Fatal(res, err)
	}
	tick := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	run := scheduler.Run{Schedule: "daily-report", Tick: tick, Lease: res.Lease}
	c := ctx.New(scheduler.WithRun(t.Context(), run), tp.Ports)

	if err := DailyReport(reports)(c); err != nil {
		t.Fatal(err)
	}
	r, ok := reports.(*memoryReports).get(tick)
	if !ok || r.Token != res.Lease.FencingToken() || r.Orders != 4 || r.Revenue != 15249 {
		t.Fatalf("report = %+v, %v; want 4 orders, 15249 cents, built under token %d", r, ok, res.Lease.FencingToken())
	}
	if m, ok, _ := store.Get(t.Context(), 1); !ok || m.Topic != "report.ready" {
		t.Fatalf("outbox message = %+v, %v; want report.ready", m, ok)
	}

	// Run twice for the same tick (a duplicate delivery): still one report.
	if err := DailyReport(reports)(c); err != nil {
		t.Fatal(err)
	}
	if n := reports.(*memoryReports).count(); n != 1 {
		t.Fatalf("%d reports after a duplicate run, want 1", n)
	}
}

// Called outside a run, the handler says so instead of panicking.
func TestDailyReportHandlerOutsideARun(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	reports := newMemoryReports(outbox.NewMemory(outbox.MemoryClock(tp.Clock)))
	if err := DailyReport(reports)(tp.Context(t)); err == nil {
		t.Fatal("ran without a run")
	}
}
