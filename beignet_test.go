package beignet_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"go.uber.org/fx"
	"go.uber.org/goleak"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"

	"github.com/beignet-go/beignet/internal/testserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testserver.Main(m)) }

func start(t *testing.T, opts ...fx.Option) {
	t.Helper()
	app := beignet.New(opts...)
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
}

func TestMemoryLocksByDefault(t *testing.T) {
	var p *ctx.Ports
	start(t, fx.Populate(&p))
	if _, ok := p.Locks.(*locks.Memory); !ok {
		t.Fatalf("Ports.Locks = %T, want *locks.Memory", p.Locks)
	}
	if p.Clock == nil || p.Logger == nil || p.RedisLocks != nil {
		t.Fatalf("Ports = %+v", p)
	}
	res, err := p.Locks.Acquire(context.Background(), "k", locks.Options{TTL: 1e9})
	if err != nil || !res.Acquired {
		t.Fatal(res, err)
	}
}

func TestProviderLocksWin(t *testing.T) {
	custom := locks.NewMemory()
	var p *ctx.Ports
	start(t,
		fx.Provide(func() locks.Locks { return custom }),
		fx.Supply(&ctx.RedisLocks{Prefix: "x"}),
		fx.Populate(&p))
	if p.Locks != locks.Locks(custom) || p.RedisLocks == nil || p.RedisLocks.Prefix != "x" {
		t.Fatalf("Ports = %+v; want the contributed locks and RedisLocks", p)
	}
}

func TestBadLogEnv(t *testing.T) {
	for env, val := range map[string]string{"BEIGNET_LOG_FORMAT": "xml", "BEIGNET_LOG_LEVEL": "loud"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, val)
			_, err := beignet.NewLogger()
			if err == nil || !strings.Contains(err.Error(), env) || !strings.Contains(err.Error(), val) {
				t.Fatalf("NewLogger() err = %v; want one naming %s and %q", err, env, val)
			}
		})
	}
}

func TestSchedulesRunWithinTheLifecycle(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC))
	ran := make(chan scheduler.Run, 1)
	start(t,
		fx.Decorate(func(clockwork.Clock) clockwork.Clock { return clock }),
		scheduler.Configure(scheduler.WithLocation(time.UTC)),
		scheduler.Schedule("tick", "* * * * *", func(c *ctx.Context) error {
			r, _ := scheduler.RunFrom(c)
			ran <- r
			return nil
		}))
	bctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(bctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Second)
	select {
	case r := <-ran:
		if r.Schedule != "tick" || !r.Tick.Equal(time.Date(2026, 12, 1, 0, 1, 0, 0, time.UTC)) {
			t.Fatalf("run = %+v", r)
		}
	case <-bctx.Done():
		t.Fatal("schedule did not run")
	}
}

func TestBadScheduleFailsStart(t *testing.T) {
	app := beignet.New(scheduler.Schedule("broken", "not a spec", func(*ctx.Context) error { return nil }))
	err := app.Start(context.Background())
	if !errors.Is(err, scheduler.ErrInvalidSpec) || !strings.Contains(err.Error(), `"broken"`) {
		t.Fatalf("start = %v; want ErrInvalidSpec naming the schedule", err)
	}
	_ = app.Stop(context.Background())
}
