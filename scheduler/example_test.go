package scheduler_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"
)

// RunDailyReport is a handler: it learns which tick it serves, and passes the
// lease's fencing token to whatever it writes.
func RunDailyReport(c *ctx.Context) error {
	run, _ := scheduler.RunFrom(c)
	fmt.Println("report for", run.Tick.Format(time.DateTime), "token > 0:", run.Lease.FencingToken() > 0)
	return nil
}

// In an app, schedules are lines of providers.go.
func ExampleSchedule() {
	providers := []fx.Option{
		scheduler.Schedule("daily-report", "CRON_TZ=Europe/Paris 0 7 * * *", RunDailyReport,
			scheduler.LeaseTTL(time.Minute), scheduler.Timeout(10*time.Minute)),
		scheduler.Configure(scheduler.WithSkewTolerance(2 * time.Second)),
	}
	beignet.New(providers...).Run()
}

// A Scheduler can also be driven directly; with a fake clock, Advance
// triggers runs.
func ExampleScheduler() {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 6, 59, 0, 0, time.UTC))
	ports := &ctx.Ports{Locks: locks.NewMemory(locks.WithClock(clock)), Clock: clock, Logger: zap.NewNop()}
	done := make(chan struct{})
	s := scheduler.New(ports, scheduler.WithLocation(time.UTC),
		scheduler.WithHook(scheduler.HookFunc(func(scheduler.Report) { close(done) })))
	if err := s.Add("daily-report", "0 7 * * *", RunDailyReport); err != nil {
		panic(err)
	}
	_ = s.Start()
	_ = clock.BlockUntilContext(context.Background(), 1) // the schedule is waiting for 07:00
	clock.Advance(time.Minute)
	<-done
	_ = s.Stop(context.Background())
	// Output: report for 2026-12-01 07:00:00 token > 0: true
}
