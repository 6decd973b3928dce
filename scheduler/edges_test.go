package scheduler_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/scheduler"
)

// Every control refuses a name that no schedule can have (empty, over
// MaxNameBytes, a megabyte, a control character) before the ledger sees
// it, with an error that is both ErrInvalidName and ErrUnknownSchedule and
// stays short; and an unknown valid name is ErrUnknownSchedule.
func TestControlsEdgeNames(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		s := scheduler.New(tp.Ports)
		c := context.Background()
		controls := func(name string) map[string]error {
			return map[string]error{
				"Runs":   errOf(s.Runs(c, name, 1)),
				"Pause":  s.Pause(c, name),
				"Resume": s.Resume(c, name),
				"RunNow": s.RunNow(c, name),
				"Remove": s.Remove(name),
			}
		}
		for _, name := range []string{"", strings.Repeat("n", scheduler.MaxNameBytes+1), strings.Repeat("x", 1<<20), "tab\there"} {
			for what, err := range controls(name) {
				if !errors.Is(err, scheduler.ErrInvalidName) || !errors.Is(err, scheduler.ErrUnknownSchedule) || len(err.Error()) > 300 {
					t.Errorf("%s(%d-byte name): %.300v, want a short ErrInvalidName and ErrUnknownSchedule", what, len(name), err)
				}
			}
		}
		for what, err := range controls("valid-but-unknown") {
			if !errors.Is(err, scheduler.ErrUnknownSchedule) || errors.Is(err, scheduler.ErrInvalidName) {
				t.Errorf("%s(unknown): %v, want ErrUnknownSchedule only", what, err)
			}
		}
	})
}

// A cancelled ctx fails every ledger-backed control with context.Canceled,
// and changes nothing.
func TestControlsCancelledContext(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		s := scheduler.New(tp.Ports)
		mustAdd(t, s, "job", "@every 1m", func(*ctx.Context) error { return nil })
		if err := s.Pause(context.Background(), "job"); err != nil { // registers it
			t.Fatal(err)
		}
		c, cancel := context.WithCancel(context.Background())
		cancel()
		for what, err := range map[string]error{
			"Runs":      errOf(s.Runs(c, "job", 1)),
			"Schedules": errOf(s.Schedules(c)),
			"Pause":     s.Pause(c, "job"),
			"Resume":    s.Resume(c, "job"),
			"RunNow":    s.RunNow(c, "job"),
		} {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s on a cancelled ctx: %v, want context.Canceled", what, err)
			}
		}
		all, err := s.Schedules(context.Background())
		if err != nil || len(all) != 1 || !all[0].Paused {
			t.Errorf("a cancelled Resume changed the schedule: %+v, %v", all, err)
		}
		if p, _ := tp.Ports.Ledger.PendingRequests(context.Background(), "job"); len(p) != 0 {
			t.Errorf("a cancelled RunNow left a request: %+v", p)
		}
	})
}

// Runs takes limit 0 (all kept), refuses -1, and takes math.MaxInt (all
// kept) on both ledgers.
func TestRunsLimits(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		s := scheduler.New(tp.Ports)
		mustAdd(t, s, "job", "@every 1m", func(*ctx.Context) error { return nil })
		start(t, s)
		tp.Advance(3 * time.Minute)
		c := context.Background()
		for _, limit := range []int{0, math.MaxInt, math.MaxInt32, ledger.DefaultHistory + 1} {
			rs, err := s.Runs(c, "job", limit)
			if err != nil || len(rs) != 3 {
				t.Errorf("Runs(limit %d) = %d records, %v; want the 3 kept", limit, len(rs), err)
			}
		}
		if rs, err := s.Runs(c, "job", 2); err != nil || len(rs) != 2 || !rs[0].Tick.After(rs[1].Tick) {
			t.Errorf("Runs(limit 2) = %+v, %v", rs, err)
		}
		if _, err := s.Runs(c, "job", -1); !errors.Is(err, scheduler.ErrInvalidOption) {
			t.Errorf("Runs(limit -1): %v, want ErrInvalidOption", err)
		}
	})
}

// Controls from two goroutines at once leave a consistent state: the
// last Pause or Resume wins, and every accepted RunNow runs exactly once.
func TestControlsConcurrently(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		var manual atomic.Int64
		s := scheduler.New(tp.Ports)
		mustAdd(t, s, "job", "@every 1h", func(c *ctx.Context) error {
			if run, _ := scheduler.RunFrom(c); run.Manual {
				manual.Add(1)
			}
			return nil
		})
		start(t, s)
		c := context.Background()
		var wg sync.WaitGroup
		var accepted atomic.Int64
		for range 2 {
			wg.Go(func() {
				for range 4 {
					if err := s.Pause(c, "job"); err != nil {
						t.Error(err)
					}
					if err := s.RunNow(c, "job"); err == nil {
						accepted.Add(1)
					} else if !errors.Is(err, ledger.ErrTooManyRequests) {
						t.Error(err)
					}
					if err := s.Resume(c, "job"); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if err := s.Pause(c, "job"); err != nil {
			t.Fatal(err)
		}
		all, err := s.Schedules(c)
		if err != nil || !all[0].Paused {
			t.Fatalf("after the last Pause: %+v, %v", all, err)
		}
		want := accepted.Load()
		waitRecordCount(t, s, "job", int(want), func(r scheduler.RunRecord) bool { return r.Manual && r.Outcome == scheduler.Ran })
		tp.Advance(0)
		if n := manual.Load(); n != want {
			t.Errorf("%d manual runs for %d accepted RunNow calls", n, want)
		}
	})
}

func waitRecordCount(t *testing.T, s *scheduler.Scheduler, name string, n int, ok func(scheduler.RunRecord) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := 0
		for _, r := range runs(t, s, name) {
			if ok(r) {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d matching records of %q, want %d: %+v", got, name, n, runs(t, s, name))
		}
		<-time.After(5 * time.Millisecond)
	}
}

// Retry's bounds: max 0 and -1 are refused at Add; backoffs of
// math.MaxInt64 are accepted, and a failing tick then ends after its one
// attempt (the next backoff is past the next tick) instead of overflowing
// into an immediate retry.
func TestRetryExtremes(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		s := scheduler.New(tp.Ports)
		fail := func(*ctx.Context) error { return errors.New("no") }
		for _, max := range []int{0, -1, math.MinInt} {
			if err := s.Add("r", "@every 1m", fail, scheduler.Retry(max, time.Second, time.Minute)); !errors.Is(err, scheduler.ErrInvalidOption) {
				t.Errorf("Retry(%d, ...): %v, want ErrInvalidOption", max, err)
			}
		}
		var calls atomic.Int64
		h := func(*ctx.Context) error { calls.Add(1); return errors.New("no") }
		huge := time.Duration(math.MaxInt64)
		mustAdd(t, s, "huge", "@every 1m", h, scheduler.Retry(math.MaxInt, huge, huge))
		mustAdd(t, s, "doubling", "@every 1m", h, scheduler.Retry(math.MaxInt, 1<<62, huge))
		start(t, s)
		tp.Advance(time.Minute)
		if n := calls.Load(); n != 2 {
			t.Errorf("%d calls in one tick of two schedules with backoffs past the next tick, want 2", n)
		}
	})
}
