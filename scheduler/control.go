package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
)

// ErrUnknownSchedule is wrapped by every error about a schedule name that
// neither the ledger nor (for Remove) this instance knows. The message
// names the schedule.
var ErrUnknownSchedule = ledger.ErrUnknownSchedule

// RunRecord is one run of a schedule as the fleet's ledger recorded it, or
// one tick that was not run (Outcome Missed or Abandoned):
//
//	Schedule     string
//	Tick         time.Time // the scheduled time; for RunNow, the request time
//	Manual       bool      // started by RunNow
//	Attempt      int       // 1 for the first try; more after a retry or a takeover
//	Instance     string
//	FencingToken uint64
//	Outcome      Outcome   // Running while it runs
//	Started      time.Time
//	Finished     time.Time // zero while running
//	Err          string
type RunRecord = ledger.Record

// ScheduleStatus is one schedule as the fleet sees it.
type ScheduleStatus struct {
	// Name and Spec are the schedule's, as last registered by any
	// instance.
	Name, Spec string
	// Location is the zone the spec is read in.
	Location *time.Location
	// Next is the next tick after now (zero if there is none); a paused
	// schedule will skip it.
	Next time.Time
	// Paused is true between Pause and Resume.
	Paused bool
	// Last is the newest finished record; nil before the first run.
	Last *RunRecord
	// Instances are the IDs of the live instances that run it, sorted,
	// as their heartbeats say: an instance joins when it starts (or Adds
	// it), leaves when it Removes it or stops, and drops out within
	// HeartbeatTTL when it dies. Empty when none runs it.
	Instances []string
}

// Runs returns up to limit records of schedule name, newest first, from
// every instance of the fleet (limit 0: all that are kept). It reads the
// ledger only, so it works on a scheduler that was never started.
func (s *Scheduler) Runs(ctx context.Context, name string, limit int) ([]RunRecord, error) {
	if err := checkName("runs of", name); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, fmt.Errorf("%w: runs of %q: limit %d must be >= 0", ErrInvalidOption, name, limit)
	}
	rs, err := s.led.Runs(ctx, name, limit)
	if err != nil {
		return nil, fmt.Errorf("scheduler: runs of %q: %w", name, err)
	}
	return rs, nil
}

// Schedules returns every schedule the fleet's ledger knows, sorted by
// name.
func (s *Scheduler) Schedules(ctx context.Context) ([]ScheduleStatus, error) {
	all, err := s.led.Schedules(ctx)
	if err != nil {
		return nil, fmt.Errorf("scheduler: schedules: %w", err)
	}
	live, err := s.led.Instances(ctx)
	if err != nil {
		return nil, fmt.Errorf("scheduler: schedules: %w", err)
	}
	runBy := make(map[string][]string)
	for _, in := range live { // sorted by ID, so each list is too
		for _, name := range in.Schedules {
			runBy[name] = append(runBy[name], in.ID)
		}
	}
	now := s.ports.Clock.Now()
	out := make([]ScheduleStatus, 0, len(all))
	for _, l := range all {
		st := ScheduleStatus{Name: l.Name, Spec: l.Spec, Paused: l.Paused, Last: l.Last, Location: time.UTC, Instances: runBy[l.Name]}
		s.mu.Lock()
		e := s.entries[l.Name]
		s.mu.Unlock()
		if e != nil && e.spec == l.Spec && e.loc.String() == l.Location {
			// This instance has the schedule: its own zone is the truth.
			// The ledger holds only the zone's name, which a fixed zone
			// (time.FixedZone) cannot be loaded back from.
			st.Location, st.Next = e.loc, e.sched.Next(now)
			out = append(out, st)
			continue
		}
		if loc, err := time.LoadLocation(l.Location); err == nil {
			st.Location = loc
		}
		if sched, err := ParseSpecAt(l.Spec, st.Location, now); err == nil {
			st.Next = sched.Next(now)
		}
		out = append(out, st)
	}
	return out, nil
}

// Pause stops every instance of the fleet from running schedule name's
// ticks until Resume; it survives restarts. A run in progress finishes.
// RunNow still runs a paused schedule.
func (s *Scheduler) Pause(ctx context.Context, name string) error {
	return s.setPaused(ctx, name, true)
}

// Resume undoes Pause. Ticks that fell in the pause are not caught up.
func (s *Scheduler) Resume(ctx context.Context, name string) error {
	return s.setPaused(ctx, name, false)
}

func (s *Scheduler) setPaused(ctx context.Context, name string, paused bool) error {
	verb := "pause"
	if !paused {
		verb = "resume"
	}
	if err := checkName(verb, name); err != nil {
		return err
	}
	if err := s.registerLocal(ctx, name); err != nil {
		return err
	}
	if err := s.led.SetPaused(ctx, name, paused); err != nil {
		return fmt.Errorf("scheduler: %s %q: %w", verb, name, err)
	}
	return nil
}

// RunNow asks the fleet to run schedule name once, now: exactly one
// instance that has the schedule runs it, as a manual run whose Tick is
// the request time, even while the schedule is paused.
func (s *Scheduler) RunNow(ctx context.Context, name string) error {
	if err := checkName("run now", name); err != nil {
		return err
	}
	if err := s.registerLocal(ctx, name); err != nil {
		return err
	}
	if _, err := s.led.RequestRun(ctx, name); err != nil {
		return fmt.Errorf("scheduler: run %q now: %w", name, err)
	}
	return nil
}

// Remove stops this instance scheduling name; a run in progress finishes.
// The schedule's live Instances drop this one at once. Other instances are
// unaffected, and the ledger keeps the schedule's history. Adding the name again, with any spec, replaces it.
func (s *Scheduler) Remove(name string) error {
	if err := checkName("remove", name); err != nil {
		return err
	}
	if err := s.remove(name); err != nil {
		return err
	}
	// The fleet sees this instance run it no longer at once, not at the
	// next heartbeat (a no-op unless the scheduler runs).
	s.heartbeat(context.Background())
	return nil
}

func (s *Scheduler) remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[name]
	if !ok {
		return fmt.Errorf("scheduler: remove %w %q on this instance", ErrUnknownSchedule, name)
	}
	delete(s.entries, name)
	delete(s.beats, name)
	for i, o := range s.order {
		if o == e {
			s.order = append(s.order[:i:i], s.order[i+1:]...)
			break
		}
	}
	e.stop()
	// Hand the heartbeat on now, not when the loop gets round to
	// ending, so that it never waits on a loop that is going away.
	s.loopEndedLocked(e)
	return nil
}

// checkName refuses, before any backend sees it, a name that Add would
// refuse: no schedule can have it, so the error wraps both ErrInvalidName
// and ErrUnknownSchedule. The message quotes at most 64 bytes of it, so a
// megabyte of name does not become a megabyte of log line.
func checkName(op, name string) error {
	var why string
	switch {
	case name == "":
		why = "empty name"
	case len(name) > MaxNameBytes:
		why = fmt.Sprintf("%d bytes, over the %d-byte limit (MaxNameBytes)", len(name), MaxNameBytes)
	case locks.ValidateKey(leaseKey(name)) != nil:
		why = "it has a control character"
	default:
		return nil
	}
	return fmt.Errorf("scheduler: %s %.64q: %w (%w): %s", op, name, ErrInvalidName, ErrUnknownSchedule, why)
}

// registerLocal makes sure a schedule added on this instance is in the
// ledger, so that controls work before Start. Names this instance does not
// have are left to the ledger to know or not.
func (s *Scheduler) registerLocal(ctx context.Context, name string) error {
	s.mu.Lock()
	e, ok := s.entries[name]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	return s.register(ctx, e)
}

func (s *Scheduler) register(ctx context.Context, e *entry) error {
	if err := s.led.Register(ctx, e.definition()); err != nil {
		return fmt.Errorf("scheduler: register %q in the ledger: %w", e.name, err)
	}
	return nil
}

// definition is what the ledger records of e.
func (e *entry) definition() ledger.Definition {
	return ledger.Definition{Name: e.name, Spec: e.spec, Location: e.loc.String()}
}
