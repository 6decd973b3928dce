package scheduler_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/ledger"
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

// A name of exactly MaxNameBytes works end to end on real Redis (its lease
// key, its ledger hash and run list, its run-now request and push), and
// one byte more is refused by Add and by every control.
func TestMaxNameBytesOnRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Redis")
	}
	tp := beignettest.CreateTestPorts(t, beignettest.StartAt(durableStart))
	client := redistest.SharedClient(t)
	prefix := redistest.UniquePrefix(t, client)
	tp.Ports.Locks = redislocks.New(client, prefix, redislocks.WithClock(tp.Clock))
	tp.Ports.Ledger = redislocks.NewLedger(client, prefix, ledger.WithClock(tp.Clock))
	s := scheduler.New(tp.Ports)
	name := strings.Repeat("n", scheduler.MaxNameBytes)
	var ran, manual atomic.Int64
	mustAdd(t, s, name, "@every 1m", func(c *ctx.Context) error {
		if run, _ := scheduler.RunFrom(c); run.Manual {
			manual.Add(1)
		} else {
			ran.Add(1)
		}
		return nil
	})
	over := name + "n"
	if err := s.Add(over, "@every 1m", func(*ctx.Context) error { return nil }); !errors.Is(err, scheduler.ErrInvalidName) {
		t.Fatalf("Add(%d bytes) = %v, want ErrInvalidName", len(over), err)
	}
	start(t, s)
	tp.Advance(time.Minute)
	c := context.Background()
	if err := s.RunNow(c, name); err != nil {
		t.Fatal(err)
	}
	waitRecord(t, s, name, func(r scheduler.RunRecord) bool { return r.Manual && r.Outcome == scheduler.Ran })
	tp.Advance(0)
	if err := s.Pause(c, name); err != nil {
		t.Fatal(err)
	}
	if err := s.Resume(c, name); err != nil {
		t.Fatal(err)
	}
	rs, err := s.Runs(c, name, 0)
	if err != nil || ran.Load() != 1 || manual.Load() != 1 || len(rs) != 2 {
		t.Fatalf("%d ticks and %d manual runs, records %+v, %v; want one of each", ran.Load(), manual.Load(), rs, err)
	}
	for what, err := range map[string]error{
		"Runs":   errOf(s.Runs(c, over, 0)),
		"Pause":  s.Pause(c, over),
		"Resume": s.Resume(c, over),
		"RunNow": s.RunNow(c, over),
		"Remove": s.Remove(over),
	} {
		if !errors.Is(err, scheduler.ErrInvalidName) {
			t.Errorf("%s(%d bytes) = %v, want ErrInvalidName", what, len(over), err)
		}
	}
}
