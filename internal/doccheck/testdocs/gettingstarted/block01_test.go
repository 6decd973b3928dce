// Code generated from docs/getting-started.md by internal/doccheck -update. DO NOT EDIT.

package main

import (
	"errors"
	"time"

	"go.uber.org/fx"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// SendDigest runs once per tick for the whole fleet.
func SendDigest(ctx *ctx.Context) error {
	run, ok := scheduler.RunFrom(ctx)
	if !ok {
		return errors.New("SendDigest runs under the scheduler")
	}
	ctx.Ports.Logger.Sugar().Infof("digest for %s, fencing token %d", run.Tick, run.Lease.FencingToken())
	return nil
}

// Providers is the app's list of capabilities.
var Providers = []fx.Option{
	redislocks.Provider(redislocks.Options{}), // REDIS_LOCKS_URL, default redis://127.0.0.1:6379/0
	scheduler.Schedule("digest", "*/10 * * * * *", SendDigest, scheduler.LeaseTTL(30*time.Second)),
}

func main() { beignet.New(Providers...).Run() }
