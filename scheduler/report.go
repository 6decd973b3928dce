package scheduler

import (
	"time"

	"github.com/beignet-go/beignet/ledger"
)

// Outcome is what became of one tick or run. It is the ledger's type, so
// reports and run records share one vocabulary.
type Outcome = ledger.Outcome

// Outcomes of a run.
const (
	// Ran: the handler returned nil.
	Ran = ledger.Ran
	// SkippedHeld: the previous run still held the schedule somewhere in
	// the fleet (overlap policy skip, or wait ran out).
	SkippedHeld = ledger.SkippedHeld
	// Failed: the handler returned an error, or the backend failed.
	Failed = ledger.Failed
	// TimedOut: the run's timeout cancelled the handler.
	TimedOut = ledger.TimedOut
	// LeaseLost: the run's claim could not be kept; the handler's ctx was
	// cancelled with locks.ErrLeaseLost.
	LeaseLost = ledger.LeaseLost
	// Panicked: the handler panicked; the panic was recovered.
	Panicked = ledger.Panicked
	// Missed: the tick was not run: the whole fleet was down at the time,
	// or this instance woke later than the skew tolerance. Not a run.
	Missed = ledger.Missed
	// SkippedPaused: the tick fell while the schedule was paused (run
	// records only: a paused tick is not reported to hooks). Not a run.
	SkippedPaused = ledger.SkippedPaused
	// Running: a run that has started and not finished (run records
	// only).
	Running = ledger.Running
	// Abandoned: the instance running it stopped renewing its claim
	// (crashed or cut off) and no end was ever reported; or the tick could
	// not be finished before the next one was due.
	Abandoned = ledger.Abandoned
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
	// Attempt is the run's attempt at its tick: 1 for the tick's first
	// run, more for a retry (Retry) or a takeover of a run that did not
	// finish. 0 when no attempt was made (Missed, a failed claim, a
	// skipped tick) and for task passes. Only a first attempt's Start
	// minus Tick is the tick's lag: a later one starts after a backoff or
	// a lapse.
	Attempt int
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
