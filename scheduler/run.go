package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
)

// Run identifies the run a handler is in.
type Run struct {
	// Schedule is the schedule's name.
	Schedule string
	// Tick is the scheduled time, computed from the spec: the same on
	// every instance, whatever its clock says.
	Tick time.Time
	// Lease is the run's lease on "schedule:<name>"; pass its
	// FencingToken to the stores the handler writes to.
	Lease locks.Lease
	// Instance is the id of the instance running it.
	Instance string
	// Attempt is 1 for a tick's first try, more after a retry or a
	// takeover from an instance that died.
	Attempt int
	// Manual reports a run started by RunNow; its Tick is the request
	// time.
	Manual bool
}

type runKey struct{}

// ErrTimeout is the cause of a handler's ctx cancellation when its run's
// Timeout passes. It wraps context.DeadlineExceeded.
var ErrTimeout = fmt.Errorf("scheduler: run timed out: %w", context.DeadlineExceeded)

// RunFrom returns the run a handler's ctx belongs to. ok is false outside
// a run, and for a run without a Lease, so a handler that checks ok can use
// run.Lease:
//
//	run, ok := scheduler.RunFrom(ctx)
//	if !ok {
//		return errors.New("not called by the scheduler")
//	}
//	token := run.Lease.FencingToken()
func RunFrom(c context.Context) (r Run, ok bool) {
	if c == nil {
		return Run{}, false // a handler's caller passed no ctx: not in a run
	}
	r, ok = c.Value(runKey{}).(Run)
	if !ok || r.Lease == nil {
		return Run{}, false
	}
	return r, true
}

// WithRun returns a ctx, derived from parent, that RunFrom reports r in:
// the inverse of RunFrom, for calling a handler directly in a unit test
// with a lease taken from the test's locks. r.Lease must be set (RunFrom
// reports no run otherwise).
func WithRun(parent context.Context, r Run) context.Context {
	return context.WithValue(parent, runKey{}, r)
}

// call runs the handler with the run's timeout, recovering a panic and
// surviving runtime.Goexit.
func (s *Scheduler) call(e *entry, lctx context.Context, r Run) (outcome Outcome, err error) {
	hctx, cancel := context.WithCancelCause(WithRun(lctx, r))
	defer cancel(nil)
	if e.o.timeout > 0 {
		// On Ports.Clock, so a fake clock's Advance times runs out.
		t := s.ports.Clock.AfterFunc(e.o.timeout, func() { cancel(ErrTimeout) })
		defer t.Stop()
	}
	x := guard(func() error { return e.handler(ctx.New(hctx, s.ports)) })
	if o, err := s.abnormal(e.name, r.Tick, x); o != "" {
		return o, err
	}
	err = x.err
	switch {
	case lctx.Err() != nil && errors.Is(context.Cause(lctx), locks.ErrLeaseLost):
		return LeaseLost, err
	case errors.Is(context.Cause(hctx), ErrTimeout) && lctx.Err() == nil:
		return TimedOut, errors.Join(fmt.Errorf("scheduler: %q ran past its %v timeout: %w", e.name, e.o.timeout, ErrTimeout), err)
	case err != nil:
		return Failed, err
	}
	return Ran, nil
}

func (s *Scheduler) count(name string, o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.counts[name]; c != nil {
		c[o]++
	}
}

func (s *Scheduler) notify(r Report) {
	for _, h := range s.opts.hooks {
		h.OnRun(r)
	}
}

// report logs one line per run, counts it and tells the hooks.
func (s *Scheduler) report(r Report) {
	s.count(r.Schedule, r.Outcome)

	fields := []zap.Field{
		zap.String("schedule", r.Schedule),
		zap.Time("tick", r.Tick),
		zap.String("instance", r.Instance),
		zap.Uint64("fencing_token", r.FencingToken),
		zap.String("outcome", string(r.Outcome)),
		zap.Duration("duration", r.Duration),
	}
	switch r.Outcome {
	case Ran, SkippedHeld:
		s.log.Info("run", fields...)
	case Missed:
		s.log.Warn("run", append(fields, zap.Error(r.Err))...)
	default:
		s.log.Error("run", append(fields, zap.Error(r.Err))...)
	}
	s.notify(r)
}

// abnormal reports a handler that panicked or called runtime.Goexit as the
// outcome and error of its run or pass; "" if it returned.
func (s *Scheduler) abnormal(name string, tick time.Time, x exit) (Outcome, error) {
	switch {
	case x.panicked:
		s.log.Error("handler panicked", zap.String("schedule", name), zap.Time("tick", tick),
			zap.Any("panic", x.value), zap.ByteString("stack", x.stack))
		return Panicked, fmt.Errorf("scheduler: handler of %q panicked: %v", name, x.value)
	case x.goexit:
		return Failed, fmt.Errorf("%q: %w", name, ErrGoexit)
	}
	return "", nil
}
