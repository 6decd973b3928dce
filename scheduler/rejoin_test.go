package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/scheduler"
)

func specOf(t *testing.T, l ledger.Ledger, name string) string {
	t.Helper()
	sc, err := l.Schedule(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return sc.Spec
}

// In a rolling deploy the new instance registers a changed spec. An old
// instance whose heartbeats lapsed in a partition, while the ledger kept
// its data, must not put the old spec back when it rejoins: the ledger
// still knows the schedule, so there is nothing to register again.
func TestRejoinAfterLapseKeepsANewerSpec(t *testing.T) {
	tp := newPorts(t)
	pl := &cutLedger{Ledger: tp.Ledger}
	oldPorts := *tp.Ports
	oldPorts.Ledger = pl
	old := scheduler.New(&oldPorts, scheduler.WithInstanceID("old"))
	mustAdd(t, old, "report", "0 7 * * *", noop)
	start(t, old)
	tp.Advance(time.Minute)

	nu := scheduler.New(tp.Ports, scheduler.WithInstanceID("new"))
	mustAdd(t, nu, "report", "0 8 * * *", noop)
	start(t, nu)
	if got := specOf(t, tp.Ledger, "report"); got != "0 8 * * *" {
		t.Fatalf("spec after the new instance started = %q", got)
	}

	pl.cut.Store(true)
	tp.Advance(2 * scheduler.HeartbeatTTL)
	pl.cut.Store(false)
	tp.Advance(2 * scheduler.HeartbeatInterval)
	if got := specOf(t, tp.Ledger, "report"); got != "0 8 * * *" {
		t.Fatalf("spec after the old instance rejoined = %q, want the newer %q", got, "0 8 * * *")
	}
}
