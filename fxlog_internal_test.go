package beignet

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

type dep struct{}

// A failed start is one line at Error naming the root cause; fx's chain of
// constructors, with its file paths, stays in debug output.
func TestFailedStartIsOneLine(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	cause := errors.New("redislocks: bad configuration: REDIS_LOCKS_URL=\"redis://u:xxxxx@h:x\": invalid port")
	app := fx.New(
		fx.WithLogger(func() fxevent.Logger { return newFxLogger(zap.New(core)) }),
		fx.Provide(func() (*dep, error) { return nil, cause }),
		fx.Invoke(func(*dep) {}),
	)
	if err := app.Start(context.Background()); err == nil {
		t.Fatal("started")
	}
	above := logs.Filter(func(e observer.LoggedEntry) bool { return e.Level > zapcore.DebugLevel }).All()
	if len(above) != 1 || above[0].Level != zapcore.ErrorLevel || above[0].Message != "cannot start: "+cause.Error() || len(above[0].Context) != 0 {
		t.Fatalf("lines above debug: %+v; want one error line with the cause", above)
	}
	if logs.FilterLevelExact(zapcore.DebugLevel).Len() == 0 {
		t.Fatal("fx's own events were not kept at debug")
	}
}

// A constructor whose parameter nothing provides says so, and what to do,
// rather than dig's bare "missing type".
func TestFailedStartOnAMissingDependency(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	app := fx.New(
		fx.WithLogger(func() fxevent.Logger { return newFxLogger(zap.New(core)) }),
		fx.Invoke(func(*dep) {}),
	)
	if err := app.Start(context.Background()); err == nil {
		t.Fatal("started")
	}
	lines := logs.All()
	want := "cannot start: missing type: *beignet.dep (nothing in the app provides it: add an fx.Provide for it to the app's providers; a ScheduleWith or DrainWith constructor's parameters come from there)"
	if len(lines) != 1 || lines[0].Message != want {
		t.Fatalf("lines: %+v; want one: %s", lines, want)
	}
}
