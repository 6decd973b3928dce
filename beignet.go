// Package beignet assembles a Beignet app: a logger, a clock and the Ports
// that handlers receive, from the provider modules an app lists.
//
//	var Providers = []fx.Option{
//		redislocks.Provider(redislocks.Options{}),
//		scheduler.Schedule("daily-report", "0 7 * * *", RunDailyReport),
//	}
//
//	func main() { beignet.New(Providers...).Run() }
package beignet

import (
	"context"
	"fmt"

	"github.com/jonboulle/clockwork"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"
)

// New returns an fx app with Beignet's core wired in, followed by opts (the
// app's provider modules, schedules and its own constructors).
//
// It provides a *zap.Logger (fx's own events go to it), a real
// clockwork.Clock and a *ctx.Ports, and runs the scheduler whenever a
// scheduler.Schedule is registered. Ports.Locks is whatever locks.Locks a
// provider contributes, else an in-memory adapter on the app's clock. Tests
// replace the clock with fx.Replace or fx.Decorate.
func New(opts ...fx.Option) *fx.App {
	return fx.New(
		fx.Provide(
			NewLogger,
			func() clockwork.Clock { return clockwork.NewRealClock() },
			newPorts,
		),
		fx.WithLogger(func(l *zap.Logger) fxevent.Logger {
			// fx narrates every constructor at Info; that belongs in
			// debug output, while its errors stay errors.
			zl := &fxevent.ZapLogger{Logger: l.Named("fx")}
			zl.UseLogLevel(zapcore.DebugLevel)
			return zl
		}),
		fx.Options(opts...),
		fx.Invoke(announce),
		scheduler.Module(),
	)
}

type portsIn struct {
	fx.In
	Logger     *zap.Logger
	Clock      clockwork.Clock
	Locks      locks.Locks     `optional:"true"`
	RedisLocks *ctx.RedisLocks `optional:"true"`
	// Work is set by tests (beignettest's TestPorts.App).
	Work ctx.Tracker `optional:"true"`
}

func newPorts(in portsIn) *ctx.Ports {
	p := &ctx.Ports{Locks: in.Locks, RedisLocks: in.RedisLocks, Clock: in.Clock, Logger: in.Logger, Work: in.Work}
	if p.Locks == nil {
		p.Locks = locks.NewMemory(locks.WithClock(in.Clock))
	}
	return p
}

// announce says at startup which backends the app runs on, since the first
// question about a misbehaving fleet is "are they even sharing locks?".
func announce(lc fx.Lifecycle, p *ctx.Ports) {
	lc.Append(fx.StartHook(func() {
		p.Logger.Info("beignet: ports ready",
			zap.String("locks", describeLocks(p)),
			zap.Bool("redis", p.RedisLocks != nil))
	}))
	lc.Append(fx.StopHook(func(context.Context) error {
		// Sync fails on a terminal's stderr (EINVAL); nothing is lost.
		_ = p.Logger.Sync()
		return nil
	}))
}

func describeLocks(p *ctx.Ports) string {
	if _, ok := p.Locks.(*locks.Memory); ok {
		return "memory (this process only)"
	}
	if s, ok := p.Locks.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", p.Locks)
}
