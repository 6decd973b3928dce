package scheduler_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/scheduler"
)

// Remove while a run is in progress lets that run finish, and the name
// added again with a new spec does not start a second run of it while the
// first still holds the schedule: the ledger shows the first run ran, and
// the new spec's ticks after it.
func TestRemoveDuringARun(t *testing.T) {
	onLedgers(t, func(t *testing.T, tp *beignettest.TestPorts) {
		s := scheduler.New(tp.Ports)
		started := make(chan struct{}, 10)
		release := make(chan struct{})
		cancelled := make(chan error, 1)
		mustAdd(t, s, "job", "@every 1m", func(c *ctx.Context) error {
			started <- struct{}{}
			select {
			case <-release:
				return nil
			case <-c.Done():
				cancelled <- c.Err()
				return c.Err()
			}
		}, scheduler.LeaseTTL(time.Hour), scheduler.Timeout(time.Hour))
		start(t, s)
		var once sync.Once
		finish := func() { once.Do(func() { close(release) }) }
		t.Cleanup(finish) // before Stop, which waits for the run

		tp.Advance(time.Minute) // the first tick; its handler blocks
		if len(started) != 1 {
			t.Fatalf("%d runs started, want 1", len(started))
		}
		if err := s.Remove("job"); err != nil {
			t.Fatal(err)
		}
		var again atomic.Int64
		mustAdd(t, s, "job", "@every 10s", func(*ctx.Context) error { again.Add(1); return nil },
			scheduler.LeaseTTL(time.Hour))
		tp.Advance(30 * time.Second)
		select {
		case err := <-cancelled:
			t.Fatalf("Remove cancelled the run in progress: %v", err)
		default:
		}
		if again.Load() != 0 {
			t.Fatalf("the re-added schedule ran %d times while the removed one's run held the schedule", again.Load())
		}
		finish()
		tp.Advance(time.Minute)
		rs := runs(t, s, "job")
		if len(rs) == 0 {
			t.Fatal("no runs recorded")
		}
		var first *scheduler.RunRecord
		for i := range rs {
			if rs[i].Outcome == scheduler.Ran && rs[i].Finished.Sub(rs[i].Started) >= 30*time.Second {
				first = &rs[i]
			}
		}
		if first == nil {
			t.Fatalf("the first run is not recorded as ran: %+v", rs)
		}
		if again.Load() == 0 {
			t.Fatalf("the re-added schedule never ran after the first run finished: %+v", rs)
		}
	})
}
