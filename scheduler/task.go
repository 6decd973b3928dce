package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/beignet-go/beignet/locks"
)

// Task is recurring work that needs one owner at a time rather than one run
// per tick, such as draining an outbox. Every Interval, or as soon as Wake
// delivers, one instance runs Run under a lease on Key; instances that find
// the lease held skip that pass.
type Task struct {
	// Name identifies the task in logs and reports.
	Name string
	// Key is the lease key, for example "outbox:orders".
	Key string
	// Interval between passes (required, > 0).
	Interval time.Duration
	// TTL of the pass's lease (default DefaultLeaseTTL).
	TTL time.Duration
	// Wake, if set, starts a pass early, for example on a database
	// notification.
	Wake <-chan struct{}
	// Run does one pass. Its ctx is cancelled with locks.ErrLeaseLost if
	// the lease cannot be kept; pass lease.FencingToken() to every store
	// write. A panic or runtime.Goexit in Run is reported like a
	// schedule handler's, and the task's next pass still runs.
	Run func(ctx context.Context, lease locks.Lease) error
}

func (t Task) validate() error {
	switch {
	case t.Name == "":
		return fmt.Errorf("%w: task with empty name", ErrInvalidName)
	case t.Run == nil:
		return fmt.Errorf("%w for task %q", ErrNilHandler, t.Name)
	case t.Interval <= 0:
		return fmt.Errorf("%w: task %q: interval %v must be > 0", ErrInvalidOption, t.Name, t.Interval)
	case t.TTL < 0:
		return fmt.Errorf("%w: task %q: TTL %v must be >= 0", ErrInvalidOption, t.Name, t.TTL)
	}
	if t.TTL > 0 {
		if err := locks.ValidateTTL(t.TTL); err != nil {
			return fmt.Errorf("%w: task %q: %w", ErrInvalidOption, t.Name, err)
		}
	}
	if err := locks.ValidateKey(t.Key); err != nil {
		return fmt.Errorf("%w: task %q: %v", ErrInvalidOption, t.Name, err)
	}
	return nil
}

// AddTask registers a task. Like Add, it may be called before or after
// Start.
func (s *Scheduler) AddTask(t Task) error {
	if err := t.validate(); err != nil {
		return err
	}
	if t.TTL == 0 {
		t.TTL = DefaultLeaseTTL
	}
	if err := locks.ValidateTTLFor(s.ports.Locks, t.TTL); err != nil {
		// The backend would refuse it on every pass; say so once, here.
		return fmt.Errorf("%w: task %q: %w", ErrInvalidOption, t.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Schedules and tasks share one namespace: they share Counts and
	// reports, where one name must mean one thing.
	if _, dup := s.tasks[t.Name]; dup {
		return fmt.Errorf("%w: task %q", ErrDuplicateName, t.Name)
	}
	if _, dup := s.entries[t.Name]; dup {
		return fmt.Errorf("%w: task %q: a schedule has that name", ErrDuplicateName, t.Name)
	}
	if s.state == stateStopped {
		return fmt.Errorf("scheduler: add task %q: %w", t.Name, ErrStopped)
	}
	s.tasks[t.Name] = &t
	s.counts[t.Name] = make(map[Outcome]uint64)
	if s.state == stateRunning {
		s.startTaskLoop(&t)
	}
	return nil
}

// startTaskLoop starts t's loop, counted as work in flight from now until
// it first sleeps.
func (s *Scheduler) startTaskLoop(t *Task) {
	b := begin(s.ports, "task "+t.Name)
	b.hb = s.heartbeatLocked(t.Name)
	s.loops.Add(1)
	go s.taskLoop(t, b)
}

// taskLoop runs passes of t until Stop. Passes run on the loop's goroutine:
// a task never overlaps itself on one instance, and the lease keeps other
// instances out.
func (s *Scheduler) taskLoop(t *Task, b *busy) {
	defer s.loops.Done()
	defer b.done()
	for b.sleep(t.Interval, s.loopCtx.Done(), t.Wake) != wokeByStop {
		if s.loopCtx.Err() != nil {
			// A wake that raced Stop must not start a pass.
			return
		}
		s.pass(t)
	}
}

func (s *Scheduler) pass(t *Task) {
	clock := s.ports.Clock
	start := clock.Now()
	var token uint64
	var outcome Outcome // set when Run panicked or called runtime.Goexit
	err := s.ports.Locks.WithLease(s.runCtx, t.Key, locks.Options{TTL: t.TTL, Metadata: map[string]string{"instance": s.opts.instance}},
		func(ctx context.Context, lease locks.Lease) error {
			token = lease.FencingToken()
			x := guard(func() error { return t.Run(ctx, lease) })
			var err error
			if outcome, err = s.abnormal(t.Name, start, x); outcome != "" {
				return err
			}
			return x.err
		})
	r := Report{Schedule: t.Name, Tick: start, Instance: s.opts.instance, FencingToken: token,
		Start: start, Task: true, Duration: clock.Since(start), Err: err}
	switch {
	case outcome != "":
		r.Outcome = outcome
	case err == nil:
		r.Outcome = Ran
	case errors.Is(err, locks.ErrNotAcquired):
		// Another instance owns the task right now: the normal case for
		// all but one instance, so not worth a log line per interval.
		s.count(t.Name, SkippedHeld)
		return
	case errors.Is(err, locks.ErrLeaseLost):
		r.Outcome = LeaseLost
	default:
		r.Outcome = Failed
	}
	if r.Outcome == Ran {
		// Passes are frequent; only failures deserve a line at info and
		// above.
		s.count(t.Name, Ran)
		s.log.Debug("task pass", zap.String("task", t.Name), zap.Uint64("fencing_token", token), zap.Duration("duration", r.Duration))
		s.notify(r)
		return
	}
	s.report(r)
}
