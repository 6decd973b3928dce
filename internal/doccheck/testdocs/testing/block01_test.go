// Code generated from docs/testing.md by internal/doccheck -update. DO NOT EDIT.

package docs

import (
	"context"
	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/locks"
	"testing"
	"time"
)

func TestLeaseExpires(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	ctx := context.Background()

	res, err := tp.Ports.Locks.Acquire(ctx, "job:sync", locks.Options{TTL: time.Second})
	if err != nil || !res.Acquired {
		t.Fatal(res, err)
	}
	tp.Clock.Advance(time.Second)
	if ok, _ := res.Lease.Renew(ctx, 0); ok {
		t.Fatal("renewed an expired lease")
	}
	if _, held := tp.Locks.Leases()["job:sync"]; held {
		t.Fatal("expired lease still listed")
	}
}
