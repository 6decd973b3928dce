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
	"os"
	"strconv"

	"github.com/jonboulle/clockwork"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"
)

// New returns an fx app with Beignet's core wired in, followed by opts (the
// app's provider modules, schedules and its own constructors).
//
// It provides a *zap.Logger (fx's own events go to it), a real
// clockwork.Clock and a *ctx.Ports, and runs the scheduler whenever a
// scheduler.Schedule is registered. Ports.Locks is whatever locks.Locks a
// provider contributes, else an in-memory adapter on the app's clock, and
// Ports.Ledger likewise (the fleet's run state: in memory, or Redis when
// providers/redislocks is registered). Tests
// replace the clock with fx.Replace or fx.Decorate.
func New(opts ...fx.Option) *fx.App {
	log, err := NewLogger()
	if err != nil {
		// The app cannot log as configured: say so, once, in the
		// default format, and fail its start.
		return fx.New(fx.WithLogger(func() fxevent.Logger { return newFxLogger(fallbackLogger()) }), fx.Error(err))
	}
	return fx.New(
		fx.Supply(log),
		fx.Provide(
			func() clockwork.Clock { return clockwork.NewRealClock() },
			newPorts,
		),
		// Not from the container: an option error stops fx before it
		// provides anything, and that must still be one line.
		fx.WithLogger(func() fxevent.Logger { return newFxLogger(log) }),
		fx.Options(opts...),
		fx.Invoke(announce),
		scheduler.Module(),
	)
}

type portsIn struct {
	fx.In
	Lifecycle  fx.Lifecycle
	Logger     *zap.Logger
	Clock      clockwork.Clock
	Locks      locks.Locks     `optional:"true"`
	Ledger     ledger.Ledger   `optional:"true"`
	RedisLocks *ctx.RedisLocks `optional:"true"`
	// Work is set by tests (beignettest's TestPorts.App).
	Work ctx.Tracker `optional:"true"`
}

// memoryFallbackWarning is what the app logs at Warn when it starts without
// a shared-locks provider: its locks and its run ledger are then in the
// process's memory, so every instance runs every tick and each sees only
// its own runs.
const memoryFallbackWarning = "beignet: no shared locks provider: locks and the run ledger are in this process's memory, " +
	"so every instance of this app runs every tick, and the run history (Runs, the admin page, the CLI) shows only this instance's runs. " +
	"Add redislocks.Provider for a fleet, or set " + EnvRequireSharedLocks + "=true to refuse to start without one."

func newPorts(in portsIn) (*ctx.Ports, error) {
	p := &ctx.Ports{Locks: in.Locks, Ledger: in.Ledger, RedisLocks: in.RedisLocks, Clock: in.Clock, Logger: in.Logger, Work: in.Work}
	require := false
	if s := os.Getenv(EnvRequireSharedLocks); s != "" {
		var err error
		if require, err = strconv.ParseBool(s); err != nil {
			return nil, fmt.Errorf("%w: %s=%q: want true or false", ErrConfig, EnvRequireSharedLocks, s)
		}
	}
	if p.Locks == nil {
		if require {
			return nil, fmt.Errorf("%w: %s=%q, but no provider contributes shared locks: add redislocks.Provider to the app's providers",
				ErrConfig, EnvRequireSharedLocks, os.Getenv(EnvRequireSharedLocks))
		}
		// Loud, because it is silent in effect: nothing fails, but a
		// fleet no longer runs each tick once. Said at start, so an app
		// that fails to assemble prints only why.
		msg := memoryFallbackWarning
		if p.Ledger != nil {
			// A provider contributed a ledger but no locks: only the
			// locks are this process's.
			msg = "beignet: no shared locks provider: locks are in this process's memory, so every instance of this app runs every tick. " +
				"Add redislocks.Provider for a fleet, or set " + EnvRequireSharedLocks + "=true to refuse to start without one."
		}
		in.Lifecycle.Append(fx.StartHook(func() { in.Logger.Warn(msg) }))
		p.Locks = locks.NewMemory(locks.WithClock(in.Clock))
	}
	if p.Ledger == nil {
		p.Ledger = ledger.NewMemory(ledger.WithClock(in.Clock))
	}
	return p, nil
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
