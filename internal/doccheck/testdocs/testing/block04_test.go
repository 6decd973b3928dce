// Code generated from docs/testing.md by internal/doccheck -update. DO NOT EDIT.

package docs

import (
	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"
	"testing"
	"time"
)

func TestSendStampsTheToken(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	res, err := tp.Locks.Acquire(t.Context(), "schedule:digest", locks.Options{TTL: time.Minute})
	if err != nil || !res.Acquired {
		t.Fatal(res, err)
	}
	tick := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	run := scheduler.Run{Schedule: "digest", Tick: tick, Lease: res.Lease}

	digests := &Digests{}
	if err := digests.Send(ctx.New(scheduler.WithRun(t.Context(), run), tp.Ports)); err != nil {
		t.Fatal(err)
	}
	if got := digests.Sent()[tick]; got != res.Lease.FencingToken() {
		t.Fatalf("sent with token %d, want the lease's %d", got, res.Lease.FencingToken())
	}
	// Outside a run, RunFrom reports ok=false: the handler says so.
	if err := digests.Send(tp.Context(t)); err == nil {
		t.Fatal("sent without a run")
	}
}
