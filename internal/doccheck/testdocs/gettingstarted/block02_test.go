// Code generated from docs/getting-started.md by internal/doccheck -update. DO NOT EDIT.

package main

import (
	"context"
	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/scheduler"
	"testing"
	"time"
)

func TestDigest(t *testing.T) {
	tp := beignettest.CreateTestPorts(t) // a fake clock at 2026-01-07 00:00:07.75 UTC
	s := scheduler.New(tp.Ports)
	if err := s.Add("digest", "*/10 * * * * *", SendDigest); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) }) // before the test's logger goes

	// A minute of fake time: the ticks at :10, :20, :30, :40, :50 and
	// 00:01:00 each run, and have finished when Advance returns.
	tp.Advance(time.Minute)
	if got := s.Counts("digest"); got[scheduler.Ran] != 6 || len(got) != 1 {
		t.Fatalf("outcomes %v, want 6 ran and nothing else", got)
	}
}
