package main

import (
	"context"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
)

// Providers is the list of modules this app runs with. Copy it: each line
// is one capability.
func Providers() []fx.Option {
	return []fx.Option{
		fx.Invoke(showLease),
	}
}

// showLease takes and hands back one lease at startup, so a fresh clone can
// see the ports at work.
func showLease(lc fx.Lifecycle, p *ctx.Ports) {
	lc.Append(fx.StartHook(func(c context.Context) error {
		res, err := p.Locks.Acquire(c, "demo:hello", locks.Options{TTL: time.Minute})
		if err != nil {
			return err
		}
		p.Logger.Info("lease", zap.Bool("acquired", res.Acquired), zap.Uint64("fencing_token", res.Lease.FencingToken()))
		return res.Lease.Release(c)
	}))
}
