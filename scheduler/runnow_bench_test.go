package scheduler_test

import (
	"context"
	"testing"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// BenchmarkRunNowLatencyOnRedis measures, on real Redis and real clocks,
// the time from RunNow to the handler's start on one of two
// instances whose loops sleep until next year: the pub/sub push, the claim
// and the run's lease. ns/op is that latency.
func BenchmarkRunNowLatencyOnRedis(b *testing.B) {
	client := redistest.SharedClient(b)
	prefix := redistest.UniquePrefix(b, client)
	started := make(chan struct{}, 1)
	var scheds []*scheduler.Scheduler
	for _, id := range []string{"a", "b"} {
		ports := &ctx.Ports{
			Locks:  redislocks.New(client, prefix),
			Ledger: redislocks.NewLedger(client, prefix),
			Clock:  clockwork.NewRealClock(),
			Logger: zap.NewNop(),
		}
		s := scheduler.New(ports, scheduler.WithInstanceID(id))
		if err := s.Add("yearly", "@yearly", func(c *ctx.Context) error {
			if run, _ := scheduler.RunFrom(c); run.Manual {
				started <- struct{}{}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if err := s.Start(); err != nil {
			b.Fatal(err)
		}
		scheds = append(scheds, s)
	}
	b.Cleanup(func() {
		for _, s := range scheds {
			_ = s.Stop(context.Background())
		}
	})
	c := context.Background()
	b.ResetTimer()
	for range b.N {
		if err := scheds[0].RunNow(c, "yearly"); err != nil {
			b.Fatal(err)
		}
		<-started
	}
}
