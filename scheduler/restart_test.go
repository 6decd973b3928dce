package scheduler_test

import (
	"context"
	"testing"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// Redis restarted empty (no persistence, a failover to an empty replica)
// loses the fleet's list of live instances and the schedules' definitions.
// A running instance puts both back with its next heartbeat, rather than
// staying invisible until its schedules' next ticks, hours away.
func TestRedisRestartedEmpty(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	t.Cleanup(func() { client.Close() })
	tp := beignettest.CreateTestPorts(t)
	tp.Ports.Ledger = redislocks.NewLedger(client, "restart", ledger.WithClock(tp.Clock))
	s := scheduler.New(tp.Ports, scheduler.WithInstanceID("a"))
	mustAdd(t, s, "daily", "0 7 * * *", func(*ctx.Context) error { return nil })
	start(t, s)

	listed := func() bool {
		is, err := tp.Ports.Ledger.Instances(context.Background())
		return err == nil && len(is) == 1 && is[0].ID == "a"
	}
	known := func() bool {
		all, err := s.Schedules(context.Background())
		return err == nil && len(all) == 1 && all[0].Name == "daily"
	}
	tp.Advance(scheduler.HeartbeatInterval)
	if !listed() || !known() {
		t.Fatal("not listed before the restart")
	}
	srv.Restart()
	if listed() || known() {
		t.Fatal("the restarted server still has the data")
	}
	for range 3 {
		tp.Advance(scheduler.HeartbeatInterval)
	}
	if !listed() {
		t.Error("instance not listed again within three heartbeats of the restart")
	}
	if !known() {
		t.Error("schedule not registered again within three heartbeats of the restart")
	}
}
