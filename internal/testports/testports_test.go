package testports_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/internal/testports"
	"github.com/beignet-go/beignet/locks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestDocsExpiry is the test docs/testing.md shows: a lease expires when the
// fake clock passes its TTL, without any sleeping.
func TestDocsExpiry(t *testing.T) {
	tp := testports.CreateTestPorts(t)
	ctx := context.Background()

	res, err := tp.Ports.Locks.Acquire(ctx, "job:sync", locks.Options{TTL: time.Second})
	if err != nil || !res.Acquired {
		t.Fatalf("Acquire = %+v, %v; want acquired", res, err)
	}

	tp.Clock.Advance(time.Second)
	ok, err := res.Lease.Renew(ctx, 0)
	if err != nil || ok {
		t.Fatalf("Renew after the TTL = %v, %v; want false, nil", ok, err)
	}

	if _, held := tp.Locks.Leases()["job:sync"]; held {
		t.Fatal(`Leases() still has "job:sync"`)
	}
}

func TestPortsAreWired(t *testing.T) {
	tp := testports.CreateTestPorts(t)
	// Ports.Clock wraps the fake clock (so Advance can step to its timers),
	// so it is wired when it reads the fake's time and moves with it.
	if tp.Ports.Locks != locks.Locks(tp.Locks) || tp.Ports.Clock == nil || !tp.Ports.Clock.Now().Equal(tp.Clock.Now()) || tp.Ports.Logger == nil {
		t.Fatalf("ports not wired to the fakes: %+v", tp.Ports)
	}
	start := tp.Clock.Now()
	tp.Clock.Advance(time.Hour)
	if got := tp.Ports.Clock.Since(start); got != time.Hour {
		t.Fatalf("Ports.Clock moved %v, want 1h", got)
	}
	c := tp.Context(t)
	if c.Ports != tp.Ports || c.Err() != nil {
		t.Fatalf("Context() = %+v", c)
	}
}
