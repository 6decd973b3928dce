// Code generated from docs/scheduler.md by internal/doccheck -update. DO NOT EDIT.

package docs

import (
	"errors"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/scheduler"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"time"
)

// RunDailyReport builds the day's report, once per tick for the fleet.
func RunDailyReport(ctx *ctx.Context) error {
	run, ok := scheduler.RunFrom(ctx)
	if !ok {
		return errors.New("RunDailyReport runs under the scheduler")
	}
	ctx.Ports.Logger.Info("daily report",
		zap.Time("tick", run.Tick), zap.Uint64("fencing_token", run.Lease.FencingToken()))
	return nil
}

// RefreshCache reloads a cache every 30 s.
func RefreshCache(ctx *ctx.Context) error { return nil }

var Providers = []fx.Option{
	scheduler.Schedule("daily-report", "0 7 * * *", RunDailyReport),
	scheduler.Schedule("refresh-cache", "@every 30s", RefreshCache,
		scheduler.LeaseTTL(time.Minute), scheduler.Timeout(25*time.Second)),
	scheduler.Configure(scheduler.WithLocation(time.UTC)),
}
