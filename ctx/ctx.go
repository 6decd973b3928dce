// Package ctx holds what a Beignet handler receives: the app's Ports, carried
// on a context.Context.
//
// A handler takes the Context and reaches every port through it:
//
//	func RunDailyReport(ctx *ctx.Context) error {
//		res, err := ctx.Ports.Locks.Acquire(ctx, "report:render", locks.Options{TTL: time.Minute})
//		...
//	}
package ctx

import (
	"context"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
)

// Ports are the outside-world dependencies a handler uses. Provider modules
// contribute them; beignet.New assembles them.
type Ports struct {
	// Locks hands out leases. The in-memory adapter unless a provider
	// (such as providers/redislocks) contributes another.
	Locks locks.Locks
	// Ledger is the fleet's run state: schedules, pauses, claims on ticks
	// and the history of runs. The in-memory adapter unless a provider
	// (such as providers/redislocks) contributes another; a scheduler on
	// Ports whose Ledger is nil keeps a private in-memory one.
	Ledger ledger.Ledger
	// RedisLocks is the Redis client and key prefix behind Locks, for the
	// rare handler that needs the raw client. Nil unless the Redis locks
	// provider is registered.
	RedisLocks *RedisLocks
	// Clock is the only source of time for schedules and leases, so tests
	// can drive it with a fake clock.
	Clock clockwork.Clock
	// Logger is the app's structured logger.
	Logger *zap.Logger
	// Work, when set, is told about the work in flight, so that a test
	// moving a fake clock knows when the work it made due has finished.
	// beignettest sets it; an app leaves it nil.
	Work Tracker
}

// Tracker counts work in flight. The scheduler and the outbox's drains
// report every run, pass and wake-up to it.
type Tracker interface {
	// Begin records that the work named what started; end records that
	// it finished.
	Begin(what string) (end func())
	// Sleep records that the caller, having armed a timer of duration d
	// on the ports' Clock, is about to block until it fires. From the
	// moment the clock reaches it, the caller counts as work in flight
	// until it calls woke, which it does after it has begun its next
	// work (or decided to stop), so no instant is left uncounted.
	Sleep(what string, d time.Duration) (woke func())
}

// ChoreTracker is a Tracker that also lets a sleeping goroutine wake early
// for a chore of its own, such as the scheduler's heartbeat, without a
// test's Advance stopping at every one of the chore's wake-ups: a heartbeat
// every 10 s would otherwise turn an Advance of a day into 8,640 steps.
// beignettest's tracker implements it.
type ChoreTracker interface {
	Tracker
	// SleepChore is Sleep(what, d) for a caller that armed a ChoreTimer
	// of chore (0 <= chore < d) instead of a timer of d: the test's clock
	// is moved to d for the caller's sake, never to chore, but any move
	// at or past chore counts the caller as woken.
	SleepChore(what string, d, chore time.Duration) (woke func())
	// ChoreTimer returns a timer firing after d on the ports' Clock that
	// a test's Advance does not stop at.
	ChoreTimer(d time.Duration) clockwork.Timer
}

// SleepChore arms a timer for a chore due after chore, on the way to the
// caller's next wake-up after d, and tells Work about it as ChoreTracker
// says: a tracker that knows no chores is told of a plain Sleep of chore.
// Without a tracker the timer is a plain one and woke a no-op.
func (p *Ports) SleepChore(what string, d, chore time.Duration) (t clockwork.Timer, woke func()) {
	if c, ok := p.Work.(ChoreTracker); ok && chore < d {
		return c.ChoreTimer(chore), c.SleepChore(what, d, chore)
	}
	return p.Clock.NewTimer(chore), p.Sleep(what, chore)
}

// Begin is Work.Begin, or a no-op when no tracker is set.
func (p *Ports) Begin(what string) (end func()) {
	if p.Work == nil {
		return func() {}
	}
	return p.Work.Begin(what)
}

// Sleep is Work.Sleep, or a no-op when no tracker is set.
func (p *Ports) Sleep(what string, d time.Duration) (woke func()) {
	if p.Work == nil {
		return func() {}
	}
	return p.Work.Sleep(what, d)
}

// RedisLocks is the escape hatch to the Redis behind the Locks port.
type RedisLocks struct {
	// Client is the client the provider uses.
	Client redis.UniversalClient
	// Prefix starts every key the provider writes.
	Prefix string
}

// Context is a context.Context that also carries the app's Ports, so a
// handler can pass it anywhere a context is expected.
type Context struct {
	context.Context
	// Ports are the app's ports.
	Ports *Ports
}

// New returns a Context carrying parent and ports.
func New(parent context.Context, ports *Ports) *Context {
	return &Context{Context: parent, Ports: ports}
}
