package redislocks_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/beignet-go/beignet/internal/backoff"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// An unreachable Redis fails start within the documented budget: the
// waits between the default attempts (1.5 s), each attempt one dial, not
// go-redis's retries of retries. go-redis's lines about those dials go to
// the app's logger, at Debug, and nowhere else.
func TestUnreachableFailsWithinTheConnectBudget(t *testing.T) {
	down := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	core, logs := observer.New(zapcore.DebugLevel)
	app := fx.New(
		fx.NopLogger,
		fx.Supply(zap.New(core)),
		fx.Provide(func() clockwork.Clock { return clockwork.NewRealClock() }),
		redislocks.Provider(redislocks.Options{URL: "redis://" + down}),
		fx.Invoke(func(locks.Locks) {}),
	)
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	err := app.Start(context.Background())
	took := time.Since(began)

	if err == nil || !strings.Contains(err.Error(), down) || !strings.Contains(err.Error(), "after 5 attempts") {
		t.Fatalf("start = %v, want a failure naming %s after 5 attempts", err, down)
	}
	budget := backoff.Connect().Budget(redislocks.DefaultConnectMaxAttempts)
	if budget != 1500*time.Millisecond {
		t.Errorf("documented budget is 1.5s, policy gives %v", budget)
	}
	// The waits are real; the slack covers five refused dials on a loaded
	// machine, not another round of retries (that took 10 s).
	if took < budget || took > budget+time.Second {
		t.Errorf("failed after %v, want %v plus the dials", took, budget)
	}
	redisLines := logs.FilterLoggerName("go-redis").All()
	if len(redisLines) != redislocks.DefaultConnectMaxAttempts {
		t.Errorf("%d go-redis lines, want one per attempt (%d)", len(redisLines), redislocks.DefaultConnectMaxAttempts)
	}
	for _, e := range redisLines {
		if e.Level != zapcore.DebugLevel {
			t.Errorf("go-redis line at %v, want Debug while connecting: %s", e.Level, e.Message)
		}
	}
	t.Logf("failed in %v", took.Round(time.Millisecond))
}
