package main

import (
	"context"
	"errors"
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

// flakyReports fails its first Create, as a database that was briefly away.
type flakyReports struct {
	Reports
	failed bool
}

func (f *flakyReports) Create(ctx context.Context, period time.Time, token uint64) (Report, bool, error) {
	if !f.failed {
		f.failed = true
		return Report{}, false, errors.New("connection reset")
	}
	return f.Reports.Create(ctx, period, token)
}

// The app's daily report retries a failed build before the next tick, and
// the ledger shows both attempts.
func TestReportRetriesAFailedBuild(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	reports := &flakyReports{Reports: newMemoryReports(outbox.NewMemory(outbox.MemoryClock(tp.Clock)))}
	s := scheduler.New(tp.Ports)
	if err := s.Add("daily-report", "0 7 * * *", DailyReport(reports), reportOptions()...); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })

	tp.Advance(8 * time.Hour) // past 07:00 and the retry's 30 s backoff

	runs, err := s.Runs(context.Background(), "daily-report", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Outcome != scheduler.Ran || runs[0].Attempt != 2 ||
		runs[1].Outcome != scheduler.Failed || runs[1].Attempt != 1 || runs[1].Err == "" {
		t.Fatalf("runs (newest first) = %+v; want attempt 2 ran after attempt 1 failed", runs)
	}
	if want := runs[1].Started.Add(30 * time.Second); runs[0].Started.Before(want) {
		t.Errorf("attempt 2 started at %v, before the 30 s backoff ended at %v", runs[0].Started, want)
	}
	if got := reports.Reports.(*memoryReports).count(); got != 1 {
		t.Errorf("%d reports, want 1", got)
	}
}
