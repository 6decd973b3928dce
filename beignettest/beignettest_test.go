package beignettest_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/beignettest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestContextEndsWithTheTest(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	var c interface{ Err() error }
	t.Run("inner", func(t *testing.T) {
		ctx := tp.Context(t)
		if ctx.Ports != tp.Ports || ctx.Err() != nil {
			t.Fatalf("Context() = %+v", ctx)
		}
		c = ctx
	})
	if c.Err() == nil {
		t.Fatal("the handler context outlived its test")
	}
	start := tp.Clock.Now()
	tp.Clock.Advance(time.Minute)
	if tp.Ports.Clock.Since(start) != time.Minute {
		t.Fatal("Ports.Clock is not the fake clock")
	}
}
