package beignettest_test

import (
	"context"
	"testing"
	"time"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/scheduler"
)

// Advance steps through every tick on the way and returns once their runs
// have finished: the test asserts at once, without sleeping.
func ExampleTestPorts_Advance() {
	testEveryMinute := func(t *testing.T) {
		tp := beignettest.CreateTestPorts(t) // 2026-01-07 00:00:07.75 UTC
		s := scheduler.New(tp.Ports)
		if err := s.Add("digest", "* * * * *", noop); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Stop(context.Background()) })

		tp.Advance(time.Hour)
		if got := s.Counts("digest")[scheduler.Ran]; got != 60 {
			t.Fatalf("%d runs in an hour, want 60", got)
		}
	}
	_ = testEveryMinute // func TestEveryMinute(t *testing.T) in your package
}
