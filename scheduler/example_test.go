package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"
)

// RunDailyReport is a handler: it learns which tick it serves, and passes the
// lease's fencing token to whatever it writes.
func RunDailyReport(c *ctx.Context) error {
	run, ok := scheduler.RunFrom(c)
	if !ok {
		return errors.New("RunDailyReport runs under the scheduler")
	}
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

// A handler's unit test calls it directly, in a run built with WithRun and
// a lease taken from the test's locks.
func ExampleWithRun() {
	mem := locks.NewMemory()
	res, err := mem.Acquire(context.Background(), "schedule:daily-report", locks.Options{TTL: time.Minute})
	if err != nil || !res.Acquired {
		panic(err)
	}
	defer res.Lease.Release(context.Background())
	run := scheduler.Run{Schedule: "daily-report", Tick: time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC), Lease: res.Lease}
	c := ctx.New(scheduler.WithRun(context.Background(), run), &ctx.Ports{Locks: mem})
	fmt.Println(RunDailyReport(c))
	fmt.Println(RunDailyReport(ctx.New(context.Background(), &ctx.Ports{Locks: mem})))
	// Output:
	// report for 2026-12-01 07:00:00 token > 0: true
	// <nil>
	// RunDailyReport runs under the scheduler
}

// RunNow asks the fleet for one run now; Runs reads the fleet's history
// back, newest first. Both work from a scheduler that was never started,
// as in an operator's CLI.
func ExampleScheduler_Runs() {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC))
	ports := &ctx.Ports{Locks: locks.NewMemory(locks.WithClock(clock)), Ledger: ledger.NewMemory(ledger.WithClock(clock)),
		Clock: clock, Logger: zap.NewNop()}
	worker := scheduler.New(ports, scheduler.WithInstanceID("worker-1"))
	done := make(chan struct{})
	_ = worker.Add("daily-report", "0 7 * * *", func(*ctx.Context) error { close(done); return nil })
	_ = worker.Start()

	cli := scheduler.New(ports)
	if err := cli.RunNow(context.Background(), "daily-report"); err != nil {
		fmt.Println(err)
	}
	<-done
	_ = worker.Stop(context.Background())
	runs, _ := cli.Runs(context.Background(), "daily-report", 10)
	for _, r := range runs {
		fmt.Println(r.Outcome, "manual:", r.Manual, "attempt:", r.Attempt, "on", r.Instance)
	}
	_, err := cli.Runs(context.Background(), "no-such-report", 10)
	fmt.Println(errors.Is(err, scheduler.ErrUnknownSchedule))
	// Output:
	// ran manual: true attempt: 1 on worker-1
	// true
}
