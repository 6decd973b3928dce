package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/scheduler"
)

// cutLedger is one instance's view of the fleet's ledger. Once cut, its
// heartbeats (and its Leave) no longer arrive: to every other instance it
// is as if it had been SIGKILLed, while the test can still stop it.
type cutLedger struct {
	ledger.Ledger
	cut atomic.Bool
}

var errCut = errors.New("cut off from the ledger")

func (l *cutLedger) Heartbeat(ctx context.Context, instance string, ttl time.Duration, names []string) error {
	if l.cut.Load() {
		return errCut
	}
	return l.Ledger.Heartbeat(ctx, instance, ttl, names)
}

// HeartbeatListed keeps the wrapped ledger's ledger.Rejoiner, which every
// ledger these tests wrap (memory and Redis) implements.
func (l *cutLedger) HeartbeatListed(ctx context.Context, instance string, ttl time.Duration, names []string) (bool, error) {
	if l.cut.Load() {
		return false, errCut
	}
	return l.Ledger.(ledger.Rejoiner).HeartbeatListed(ctx, instance, ttl, names)
}

func (l *cutLedger) Leave(ctx context.Context, instance string) error {
	if l.cut.Load() {
		return errCut
	}
	return l.Ledger.Leave(ctx, instance)
}

// liveInstances returns the live instances of schedule name, as Schedules
// reports them.
func liveInstances(t *testing.T, s *scheduler.Scheduler, name string) []string {
	t.Helper()
	all, err := s.Schedules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range all {
		if st.Name == name {
			return st.Instances
		}
	}
	t.Fatalf("schedule %q unknown to the ledger", name)
	return nil
}

// An instance whose only schedule is daily stays listed, with that
// schedule, across days of Advance: its heartbeat does not wait for its
// next tick.
func TestDailyInstanceStaysListed(t *testing.T) {
	tp := newPorts(t)
	s := scheduler.New(tp.Ports, scheduler.WithInstanceID("daily-1"))
	mustAdd(t, s, "daily", "0 7 * * *", noop)
	start(t, s)
	if got := fmt.Sprint(liveInstances(t, s, "daily")); got != "[daily-1]" {
		t.Fatalf("live instances after Start = %s, want [daily-1]", got)
	}
	for day := 1; day <= 3; day++ {
		tp.Advance(24 * time.Hour)
		is, err := tp.Ledger.Instances(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		now := tp.Clock.Now()
		if len(is) != 1 || is[0].ID != "daily-1" || !is[0].Expires.After(now) || is[0].Expires.After(now.Add(scheduler.HeartbeatTTL)) {
			t.Fatalf("day %d: Instances = %+v at %v, want daily-1 expiring within %v", day, is, now, scheduler.HeartbeatTTL)
		}
		if got := fmt.Sprint(liveInstances(t, s, "daily")); got != "[daily-1]" {
			t.Fatalf("day %d: live instances = %s", day, got)
		}
	}
	if got := s.Counts("daily")[scheduler.Ran]; got != 3 {
		t.Fatalf("%d daily runs in 3 days", got)
	}
}

// An instance that dies leaves the list within HeartbeatTTL, however far
// off its schedules' next ticks are, while a live one stays.
func TestDeadInstanceDropsOut(t *testing.T) {
	tp := newPorts(t)
	cut := &cutLedger{Ledger: tp.Ledger}
	dyingPorts := *tp.Ports
	dyingPorts.Ledger = cut
	dying := scheduler.New(&dyingPorts, scheduler.WithInstanceID("dying"))
	mustAdd(t, dying, "daily", "0 7 * * *", noop)
	start(t, dying)
	alive := scheduler.New(tp.Ports, scheduler.WithInstanceID("alive"))
	mustAdd(t, alive, "daily", "0 7 * * *", noop)
	start(t, alive)
	tp.Advance(time.Hour)
	if got := fmt.Sprint(liveInstances(t, alive, "daily")); got != "[alive dying]" {
		t.Fatalf("live instances before the death = %s", got)
	}

	cut.cut.Store(true)
	died := tp.Clock.Now()
	tp.Advance(scheduler.HeartbeatTTL)
	if got := fmt.Sprint(liveInstances(t, alive, "daily")); got != "[alive]" {
		t.Fatalf("live instances %v after the death = %s, want [alive]", tp.Clock.Now().Sub(died), got)
	}
	is, err := tp.Ledger.Instances(context.Background())
	if err != nil || len(is) != 1 || is[0].ID != "alive" {
		t.Fatalf("Instances %v after the death = %+v, %v; want only alive", scheduler.HeartbeatTTL, is, err)
	}
}

// Remove drops this instance from the schedule's live instances at once,
// and Add puts it back; the heartbeat goes on with whichever schedules
// remain, even when the removed one's loop carried it.
func TestRemoveLeavesTheScheduleList(t *testing.T) {
	for _, removed := range []string{"a", "b"} {
		t.Run(removed, func(t *testing.T) {
			tp := newPorts(t)
			s := scheduler.New(tp.Ports, scheduler.WithInstanceID("i"))
			mustAdd(t, s, "a", "0 7 * * *", noop)
			mustAdd(t, s, "b", "0 7 * * *", noop)
			start(t, s)
			tp.Advance(0)
			if err := s.Remove(removed); err != nil {
				t.Fatal(err)
			}
			kept := map[string]string{"a": "b", "b": "a"}[removed]
			if got, kg := liveInstances(t, s, removed), fmt.Sprint(liveInstances(t, s, kept)); len(got) != 0 || kg != "[i]" {
				t.Fatalf("after Remove(%q): its live instances %v (want none), %q's %s (want [i])", removed, got, kept, kg)
			}
			// Long before the next tick: only the heartbeat keeps it
			// listed.
			for _, d := range []time.Duration{scheduler.HeartbeatTTL, 24 * time.Hour} {
				tp.Advance(d)
				if got := fmt.Sprint(liveInstances(t, s, kept)); got != "[i]" {
					t.Fatalf("%v later, after Remove(%q): %q's live instances = %s, want [i]", d, removed, kept, got)
				}
			}
			mustAdd(t, s, removed, "0 8 * * *", noop)
			if got := fmt.Sprint(liveInstances(t, s, removed)); got != "[i]" {
				t.Fatalf("after adding %q back: live instances = %s, want [i]", removed, got)
			}
		})
	}
}

// Stop takes the instance off the list at once; it does not wait for the
// heartbeat to lapse.
func TestStopLeavesTheList(t *testing.T) {
	tp := newPorts(t)
	s := scheduler.New(tp.Ports, scheduler.WithInstanceID("i"))
	mustAdd(t, s, "daily", "0 7 * * *", noop)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	tp.Advance(time.Minute)
	if got := fmt.Sprint(liveInstances(t, s, "daily")); got != "[i]" {
		t.Fatalf("live instances while running = %s", got)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := liveInstances(t, s, "daily"); len(got) != 0 {
		t.Fatalf("live instances right after Stop = %v, want none", got)
	}
	if is, err := tp.Ledger.Instances(context.Background()); err != nil || len(is) != 0 {
		t.Fatalf("Instances right after Stop = %+v, %v", is, err)
	}
}

func noop(*ctx.Context) error { return nil }
