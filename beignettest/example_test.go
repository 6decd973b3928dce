package beignettest_test

import (
	"context"
	"testing"
	"time"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/locks"
)

// In an app's test, CreateTestPorts gives handlers their ports on a fake
// clock: leases expire when the test advances time.
func ExampleCreateTestPorts() {
	testLeaseExpires := func(t *testing.T) {
		tp := beignettest.CreateTestPorts(t)
		res, err := tp.Ports.Locks.Acquire(context.Background(), "job:sync", locks.Options{TTL: time.Second})
		if err != nil || !res.Acquired {
			t.Fatal(res, err)
		}
		tp.Clock.Advance(time.Second)
		if ok, _ := res.Lease.Renew(context.Background(), 0); ok {
			t.Fatal("the lease outlived its TTL on the fake clock")
		}
	}
	_ = testLeaseExpires // func TestLeaseExpires(t *testing.T) in your package
}
