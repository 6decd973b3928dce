package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// Three instances, each with its own Redis client and a real clock offset by
// up to 300 ms, share an every-second schedule on the real server: every
// tick between the first and the last runs exactly once.
func TestRedisFleetEverySecond(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for several seconds of real time")
	}
	prefix := redistest.UniquePrefix(t, redistest.SharedClient(t))
	rec := newRecorder()
	log := zaptest.NewLogger(t)
	var scheds []*scheduler.Scheduler
	for i, off := range []time.Duration{-300 * time.Millisecond, 0, 300 * time.Millisecond} {
		ports := &ctx.Ports{
			Locks:  redislocks.New(redistest.SharedClient(t), prefix),
			Ledger: redislocks.NewLedger(redistest.SharedClient(t), prefix),
			Clock:  shiftedClock{Clock: clockwork.NewRealClock(), offset: off},
			Logger: log,
		}
		s := scheduler.New(ports, scheduler.WithHook(rec), scheduler.WithInstanceID(string(rune('A'+i))))
		mustAdd(t, s, "every-second", "* * * * * *", func(*ctx.Context) error { return nil })
		scheds = append(scheds, s)
	}
	for _, s := range scheds {
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
	}
	const want = 6
	rec.waitFor(t, "six ran reports", func(r []scheduler.Report) bool { return count(r, scheduler.Ran) >= want })
	for _, s := range scheds {
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ran := map[time.Time]string{}
	var lo, hi time.Time
	for _, r := range rec.all() {
		if r.Outcome != scheduler.Ran {
			t.Errorf("unexpected report %+v", r)
			continue
		}
		if other, dup := ran[r.Tick]; dup {
			t.Errorf("tick %v ran on %s and %s", r.Tick, other, r.Instance)
		}
		ran[r.Tick] = r.Instance
		if lo.IsZero() || r.Tick.Before(lo) {
			lo = r.Tick
		}
		if r.Tick.After(hi) {
			hi = r.Tick
		}
	}
	for tick := lo; !tick.After(hi); tick = tick.Add(time.Second) {
		if _, ok := ran[tick]; !ok {
			t.Errorf("tick %v missed", tick)
		}
	}
	t.Logf("%d ticks from %v, by instance: %v", len(ran), lo.Format(time.TimeOnly), ran)
}
