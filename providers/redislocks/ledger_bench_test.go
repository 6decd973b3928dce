package redislocks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// runTicks drives n ticks of one schedule through the ledger as the
// scheduler does: claim, running record, final record, finish.
func runTicks(tb testing.TB, l *redislocks.Ledger, clock *clockwork.FakeClock, name string, n int) {
	tb.Helper()
	c := context.Background()
	if err := l.Register(c, ledger.Definition{Name: name, Spec: "@every 1s", Location: "UTC"}); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		tick := clock.Now().Truncate(time.Second).Add(time.Second)
		clock.Advance(tick.Sub(clock.Now()))
		req := ledger.ClaimRequest{Schedule: name, Tick: tick, Owner: fmt.Sprint("o", i), Instance: "bench-instance-1", TTL: 30 * time.Second}
		won, err := l.Claim(c, req)
		if err != nil || won.State != ledger.Won {
			tb.Fatalf("tick %d: %+v, %v", i, won, err)
		}
		r := ledger.Record{Schedule: name, Tick: tick, Attempt: won.Attempt, Instance: req.Instance, FencingToken: won.Token,
			Outcome: ledger.Running, Started: clock.Now()}
		if err := l.Put(c, r); err != nil {
			tb.Fatal(err)
		}
		r.Outcome, r.Finished = ledger.Ran, clock.Now().Add(3*time.Millisecond)
		if err := l.Put(c, r); err != nil {
			tb.Fatal(err)
		}
		if err := l.Finish(c, req); err != nil {
			tb.Fatal(err)
		}
	}
}

func scheduleMemory(tb testing.TB, c *redis.Client, l *redislocks.Ledger, name string) (keys int, bytes int64) {
	for _, k := range l.ScheduleKeys(name) {
		n, err := c.MemoryUsage(context.Background(), k).Result()
		if err != nil {
			tb.Fatalf("MEMORY USAGE %s: %v", k, err)
		}
		keys++
		bytes += n
	}
	return keys, bytes
}

// A schedule keeps the same keys however many ticks it runs: its hash and
// its capped list, nothing per tick.
func TestLedgerKeysPerScheduleConstant(t *testing.T) {
	c := newClient(t)
	prefix := uniquePrefix(t, c)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	l := redislocks.NewLedger(c, prefix, ledger.WithClock(clock))
	count := func() int {
		n := 0
		iter := c.Scan(context.Background(), 0, "{"+prefix+"#*", 1000).Iterator()
		for iter.Next(context.Background()) {
			n++
		}
		return n
	}
	runTicks(t, l, clock, "s", 50)
	after50 := count()
	runTicks(t, l, clock, "s", 500)
	if n := count(); n != after50 || n != 3 {
		t.Fatalf("%d keys after 50 ticks, %d after 550; want 3 (hash, list, the fleet's set of names)", after50, n)
	}
	if n, _ := c.LLen(context.Background(), l.ScheduleKeys("s")[1]).Result(); n != ledger.DefaultHistory {
		t.Errorf("history list holds %d records, want %d", n, ledger.DefaultHistory)
	}
}

// Redis memory per schedule after 10,000 ticks (MEMORY USAGE over the
// schedule's keys), reported as B/schedule.
func BenchmarkLedgerMemoryPerSchedule(b *testing.B) {
	c := newClient(b)
	prefix := uniquePrefix(b, c)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	l := redislocks.NewLedger(c, prefix, ledger.WithClock(clock))
	const ticks = 10_000
	var keys int
	var bytes int64
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprint("schedule-", i)
		runTicks(b, l, clock, name, ticks)
		keys, bytes = scheduleMemory(b, c, l, name)
	}
	b.ReportMetric(float64(bytes), "B/schedule")
	b.ReportMetric(float64(keys), "keys/schedule")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*ticks), "ns/tick")
}
