package beignet_test

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/goleak"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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
