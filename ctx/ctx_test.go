package ctx_test

import (
	"context"
	"testing"

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
