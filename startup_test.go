package beignet_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
)

func observed() (fx.Option, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return fx.Decorate(func(*zap.Logger) *zap.Logger { return zap.New(core) }), logs
}

// Falling back to memory locks is a warning that says what it means for a
// fleet, and names the way out.
func TestMemoryFallbackWarns(t *testing.T) {
	t.Setenv(beignet.EnvRequireSharedLocks, "")
	decorate, logs := observed()
	var p *ctx.Ports
	start(t, decorate, fx.Populate(&p))
	warns := logs.FilterLevelExact(zapcore.WarnLevel).All()
	want := "beignet: no shared locks provider: locks and the run ledger are in this process's memory, " +
		"so every instance of this app runs every tick, and the run history (Runs, the admin page, the CLI) shows only this instance's runs. " +
		"Add redislocks.Provider for a fleet, or set BEIGNET_REQUIRE_SHARED_LOCKS=true to refuse to start without one."
	if len(warns) != 1 || warns[0].Message != want {
		t.Fatalf("warnings %+v, want one:\n%s", warns, want)
	}

	// With a provider's locks, no warning.
	decorate, logs = observed()
	start(t, decorate, fx.Provide(func() locks.Locks { return locks.NewMemory() }))
	if n := logs.FilterLevelExact(zapcore.WarnLevel).Len(); n != 0 {
		t.Fatalf("%d warnings with a locks provider", n)
	}
}

func TestRequireSharedLocks(t *testing.T) {
	t.Setenv(beignet.EnvRequireSharedLocks, "true")
	err := beignet.New(fx.NopLogger).Err()
	if !errors.Is(err, beignet.ErrConfig) || !strings.Contains(err.Error(), `BEIGNET_REQUIRE_SHARED_LOCKS="true"`) ||
		!strings.Contains(err.Error(), "redislocks.Provider") {
		t.Fatalf("err = %v; want ErrConfig naming the variable and the provider to add", err)
	}
	// A provider's locks satisfy it.
	start(t, fx.Provide(func() locks.Locks { return locks.NewMemory() }))

	t.Setenv(beignet.EnvRequireSharedLocks, "yes please")
	err = beignet.New(fx.NopLogger).Err()
	if !errors.Is(err, beignet.ErrConfig) || !strings.Contains(err.Error(), `BEIGNET_REQUIRE_SHARED_LOCKS="yes please": want true or false`) {
		t.Fatalf("err = %v; want ErrConfig echoing the value", err)
	}
}

func TestBadLogEnvFailsStart(t *testing.T) {
	t.Setenv(beignet.EnvLogLevel, "loud")
	app := beignet.New()
	err := app.Start(context.Background())
	if !errors.Is(err, beignet.ErrConfig) || !strings.Contains(err.Error(), `BEIGNET_LOG_LEVEL="loud"`) {
		t.Fatalf("Start = %v; want ErrConfig naming BEIGNET_LOG_LEVEL", err)
	}
}
