package main

import (
	"context"
	"testing"
	"time"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/scheduler"
)

// The first test to copy: a schedule on the fake clock of CreateTestPorts.
// Advance steps through every tick on the way and returns once the runs it
// made due have finished, so the test asserts at once, without sleeping.
func TestReportEveryMinute(t *testing.T) {
	tp := beignettest.CreateTestPorts(t) // starts 2026-01-07 00:00:07.75 UTC
	reports := newMemoryReports(outbox.NewMemory(outbox.MemoryClock(tp.Clock)))

	s := scheduler.New(tp.Ports)
	if err := s.Add("daily-report", "* * * * *", DailyReport(reports)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	// Stop before the test ends: its logger is the test's.
	t.Cleanup(func() { _ = s.Stop(context.Background()) })

	tp.Advance(time.Minute)
	tp.Advance(time.Minute)
	tp.Advance(time.Minute)

	if got := s.Counts("daily-report"); got[scheduler.Ran] != 3 || len(got) != 1 {
		t.Fatalf("outcomes %v, want 3 ran and nothing else", got)
	}
	first := beignettest.DefaultStart().Truncate(time.Minute).Add(time.Minute)
	for i := range 3 {
		period := first.Add(time.Duration(i) * time.Minute)
		if _, ok := reports.(*memoryReports).get(period); !ok {
			t.Errorf("no report for %v", period)
		}
	}
}

// An hour in one call is 60 runs: Advance steps through each tick rather
// than jumping past them.
func TestReportForAnHour(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	reports := newMemoryReports(outbox.NewMemory(outbox.MemoryClock(tp.Clock)))
	s := scheduler.New(tp.Ports)
	if err := s.Add("daily-report", "* * * * *", DailyReport(reports)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })

	tp.Advance(time.Hour)

	if got := s.Counts("daily-report"); got[scheduler.Ran] != 60 || len(got) != 1 {
		t.Fatalf("outcomes %v, want 60 ran and nothing else", got)
	}
	if got := reports.(*memoryReports).count(); got != 60 {
		t.Fatalf("%d reports, want 60", got)
	}
}
