package ctx_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/ctx"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type key struct{}

// A Context is a context.Context: values, deadlines and cancellation come
// from the parent it wraps.
func TestContextCarriesParentAndPorts(t *testing.T) {
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	ports := &ctx.Ports{}
	c := ctx.New(parent, ports)
	if c.Ports != ports || c.Value(key{}) != "v" || c.Err() != nil {
		t.Fatalf("New() = %+v", c)
	}
	var asContext context.Context = c
	cancel()
	if asContext.Err() == nil {
		t.Fatal("parent's cancellation not seen through the Context")
	}
}

// Without a tracker, counting work is free and harmless.
func TestWorkWithoutTracker(t *testing.T) {
	p := &ctx.Ports{}
	p.Begin("run")()
	p.Sleep("loop", time.Second)()
}

type countingTracker struct{ begun, slept int }

func (c *countingTracker) Begin(string) func()                { c.begun++; return func() { c.begun-- } }
func (c *countingTracker) Sleep(string, time.Duration) func() { c.slept++; return func() { c.slept-- } }

func TestWorkGoesToTheTracker(t *testing.T) {
	tr := &countingTracker{}
	p := &ctx.Ports{Work: tr}
	end, woke := p.Begin("run"), p.Sleep("loop", time.Second)
	if tr.begun != 1 || tr.slept != 1 {
		t.Fatalf("tracker saw %+v", tr)
	}
	end()
	woke()
	if tr.begun != 0 || tr.slept != 0 {
		t.Fatalf("tracker saw %+v after the ends", tr)
	}
}
