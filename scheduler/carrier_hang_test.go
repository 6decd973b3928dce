package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/scheduler"
)

// hangLedger is a ledger whose heartbeats, once hang is closed... hang
// until their ctx ends: a Redis that accepts the connection but never
// answers.
type hangLedger struct {
	ledger.Ledger
	hanging  chan struct{} // closed: heartbeats hang
	entered  chan struct{} // one per hung heartbeat
	returned chan struct{} // one per hung heartbeat that returned
}

func (l *hangLedger) Heartbeat(c context.Context, instance string, ttl time.Duration, names []string) error {
	select {
	case <-l.hanging:
	default:
		return l.Ledger.Heartbeat(c, instance, ttl, names)
	}
	l.entered <- struct{}{}
	<-c.Done()
	l.returned <- struct{}{}
	return c.Err()
}

// A heartbeat that hangs does not hold up the carrier's own tick: the
// tick due while the ledger sits on the heartbeat still runs, on time.
func TestHungHeartbeatDoesNotDelayTheCarriersTick(t *testing.T) {
	tp := newPorts(t) // 00:00:30
	hl := &hangLedger{Ledger: tp.Ledger, hanging: make(chan struct{}),
		entered: make(chan struct{}, 10), returned: make(chan struct{}, 10)}
	ports := *tp.Ports
	ports.Ledger = hl
	rec := newRecorder()
	s := scheduler.New(&ports, scheduler.WithInstanceID("i"), scheduler.WithHook(rec))
	ran := make(chan time.Time, 10)
	mustAdd(t, s, "daily", "41 0 0 * * *", func(c *ctx.Context) error {
		ran <- c.Ports.Clock.Now()
		return nil
	})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	close(hl.hanging)

	blockUntil(t, tp.Clock, 1)
	tp.Clock.Advance(scheduler.HeartbeatInterval) // 00:00:40: the heartbeat is due
	<-hl.entered
	tp.Clock.Advance(time.Second) // 00:00:41: the tick is due
	select {
	case at := <-ran:
		t.Logf("ran at %v while the heartbeat hung", at)
	case <-hl.returned:
		t.Fatalf("the tick due at 00:00:41 did not run while the heartbeat hung; the carrier waited %v (real time) for it", scheduler.HeartbeatInterval)
	}
}
