// Code generated from docs/scheduler.md by internal/doccheck -update. DO NOT EDIT.

package docs

import (
	"context"
	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/scheduler"
	"testing"
	"time"
)

func TestDailyReport(t *testing.T) {
	start := time.Date(2026, 12, 1, 6, 59, 0, 0, time.UTC)
	tp := beignettest.CreateTestPorts(t, beignettest.StartAt(start))
	s := scheduler.New(tp.Ports, scheduler.WithLocation(time.UTC))
	if err := s.Add("daily-report", "0 7 * * *", RunDailyReport); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })

	tp.Advance(25 * time.Hour) // 07:00 today and tomorrow, both finished
	if got := s.Counts("daily-report"); got[scheduler.Ran] != 2 || len(got) != 1 {
		t.Fatalf("outcomes %v, want 2 ran and nothing else", got)
	}
}
