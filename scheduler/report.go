package scheduler

import (
	"time"
)

// Outcome is what became of one tick on one instance.
type Outcome string

// Outcomes of a run.
const (
	// Ran: the handler returned nil.
	Ran Outcome = "ran"
	// SkippedHeld: the previous run still held the schedule's lease
	// somewhere in the fleet (overlap policy skip, or wait ran out).
	SkippedHeld Outcome = "skipped-held"
	// Failed: the handler returned an error, or the lease backend failed.
	Failed Outcome = "failed"
	// TimedOut: the run's timeout cancelled the handler.
	TimedOut Outcome = "timed-out"
	// LeaseLost: the lease could not be kept; the handler's ctx was
	// cancelled with locks.ErrLeaseLost.
	LeaseLost Outcome = "lease-lost"
	// Panicked: the handler panicked; the panic was recovered.
	Panicked Outcome = "panicked"
	// Missed: no instance could run the tick in time on this instance's
	// view (it woke later than the skew tolerance). Not a run.
	Missed Outcome = "missed"
)

// Report describes one tick on one instance. Ticks that another instance
// claimed produce no report.
type Report struct {
	// Schedule is the schedule's (or task's) name.
	Schedule string
	// Tick is the scheduled time the report is about.
	Tick time.Time
	// Instance is the reporting instance's id.
	Instance string
	// FencingToken is the run lease's token; 0 when no lease was taken.
	FencingToken uint64
	// Outcome is what became of the tick on this instance.
	Outcome Outcome
	// Start is when the run began on this instance, after its jitter and
	// tick claim: Start minus Tick is the tick's lag. Zero when no run
	// began (Missed, or the claim itself failed).
	Start time.Time
	// Task reports that this is a pass of a Task, whose Tick is its start
	// rather than a scheduled time.
	Task bool
	// Duration is how long the run took, lease included.
	Duration time.Duration
	// Err is why a run did not succeed; nil for Ran and SkippedHeld.
	Err error
}

// Hook observes every report, for metrics. OnRun is called from the run's
// goroutine and must not block.
type Hook interface {
	OnRun(Report)
}

// HookFunc adapts a function to Hook.
type HookFunc func(Report)

// OnRun implements Hook.
func (f HookFunc) OnRun(r Report) { f(r) }
