// Package ledger is the run-state port of the scheduler: what each schedule
// is, whether it is paused, which tick is being run by whom, and the history
// of its runs, shared by every instance of a fleet.
//
// The memory adapter lives here (one process, on a clockwork clock); the
// Redis adapter lives in providers/redislocks. Both pass the conformance
// suite in ledger/ledgertest.
//
// A claim is the ledger's lease on a schedule's run slot: one per schedule,
// held by the instance running a tick, renewed while it runs, and taken
// over by another instance (as the next attempt, with a higher fencing
// token) if it lapses. A per-schedule "latest tick done" value makes every
// finished tick a no-op for everyone without a key per tick.
package ledger

import (
	"context"
	"errors"
	"time"
)

// Errors, wrapped with the name or value at fault.
var (
	// ErrUnknownSchedule: no schedule of that name was ever registered in
	// the ledger.
	ErrUnknownSchedule = errors.New("unknown schedule")
	// ErrInvalid: a bad argument (empty name, TTL <= 0, negative limit).
	ErrInvalid = errors.New("ledger: invalid argument")
)

// Defaults of every adapter.
const (
	// DefaultHistory is how many run records are kept per schedule.
	DefaultHistory = 100
	// DefaultMaxAge is how long a run record is kept at most.
	DefaultMaxAge = 7 * 24 * time.Hour
	// MaxPendingRequests bounds the run-now requests waiting per
	// schedule, so a stuck fleet cannot accumulate them without bound.
	MaxPendingRequests = 16
	// RequestTTL is how long a run-now request waits to be taken before
	// it is dropped.
	RequestTTL = time.Hour
)

// Outcome is what became of one run (or tick).
type Outcome string

// Outcomes of a run.
const (
	// Ran: the handler returned nil.
	Ran Outcome = "ran"
	// SkippedHeld: the previous run still held the schedule somewhere in
	// the fleet (overlap policy skip, or wait ran out).
	SkippedHeld Outcome = "skipped-held"
	// Failed: the handler returned an error, or the backend failed.
	Failed Outcome = "failed"
	// TimedOut: the run's timeout cancelled the handler.
	TimedOut Outcome = "timed-out"
	// LeaseLost: the run's claim could not be kept; the handler's ctx was
	// cancelled.
	LeaseLost Outcome = "lease-lost"
	// Panicked: the handler panicked; the panic was recovered.
	Panicked Outcome = "panicked"
	// Missed: the tick was not run (the fleet was down, or the instance
	// woke too late). Not a run.
	Missed Outcome = "missed"
	// SkippedPaused: the tick fell while the schedule was paused, and was
	// not run. Not a run; recorded so that a pause's gap is visible.
	SkippedPaused Outcome = "skipped-paused"
	// Running: the run has started and has not finished.
	Running Outcome = "running"
	// Abandoned: the instance running it stopped renewing its claim
	// (it crashed, or was cut off) and the run never reported an end.
	Abandoned Outcome = "abandoned"
)

// Record is one run of a schedule, or one tick that was not run.
type Record struct {
	Schedule     string
	Tick         time.Time // the scheduled time; for a manual run, the request time
	Manual       bool      // started by a run-now request
	Attempt      int       // 1 for the first try; more after a retry or a takeover
	Instance     string
	FencingToken uint64
	Outcome      Outcome
	Started      time.Time
	Finished     time.Time // zero while running
	Err          string
}

// Definition is what a schedule is.
type Definition struct {
	// Name identifies the schedule fleet-wide.
	Name string
	// Spec is its cron spec.
	Spec string
	// Location is the IANA name of the time zone its spec is read in.
	Location string
}

// Schedule is a schedule's shared state.
type Schedule struct {
	Definition
	// Paused schedules run no ticks (run-now requests still run).
	Paused bool
	// Done is the latest tick that is finished (run, failed for good,
	// skipped or paused); zero before the first.
	Done time.Time
	// Last is the newest finished record; nil before the first.
	Last *Record
	// Running is the run in progress, if any.
	Running *Record
}

// ClaimRequest asks for a schedule's run slot for one tick.
type ClaimRequest struct {
	// Schedule is the schedule's name.
	Schedule string
	// Tick is the tick to run; for a manual run, the request time.
	Tick time.Time
	// Manual marks a run-now run. It runs even while the schedule is
	// paused, and never marks a tick done.
	Manual bool
	// Request is the run-now request a manual claim runs. With it, the
	// request stays pending while its run goes on, so that a run whose
	// instance died is taken over like a tick: Claim answers Done once
	// the request is finished (or expired), and Finish removes it. Empty
	// for ticks, and for manual claims of no request.
	Request string
	// Owner identifies this holder (unique per run on an instance).
	Owner string
	// Instance is the holder's instance id, for records and operators.
	Instance string
	// TTL is how long the claim lives without a renewal (> 0).
	TTL time.Duration
}

// ClaimState is the answer to a claim.
type ClaimState int

const (
	// Won: the caller holds the slot for the tick.
	Won ClaimState = iota + 1
	// Held: another live claim holds the slot (for this tick, or for an
	// earlier tick still running).
	Held
	// Done: the tick is finished, or a later tick has been claimed.
	Done
	// Paused: the schedule is paused; the tick now counts as done.
	Paused
)

// String names the state for logs.
func (s ClaimState) String() string {
	switch s {
	case Won:
		return "won"
	case Held:
		return "held"
	case Done:
		return "done"
	case Paused:
		return "paused"
	}
	return "unknown"
}

// Claim is the ledger's answer to a ClaimRequest.
type Claim struct {
	State ClaimState
	// Attempt is the attempt the winner runs: 1, or one more than the
	// previous attempt at this tick (a retry by the same owner, or a
	// takeover of a lapsed claim).
	Attempt int
	// Token is the winner's fencing token: strictly increasing per
	// schedule across all claims.
	Token uint64
	// PrevDone is the latest tick done before this claim, for recording
	// the ticks missed in between; zero when none.
	PrevDone time.Time
	// HeldTick, HeldBy and HeldFor describe the live claim when Held:
	// its tick, its instance and how long it lives without a renewal.
	HeldTick time.Time
	HeldBy   string
	HeldFor  time.Duration
}

// Request is one run-now request.
type Request struct {
	Schedule string
	ID       string
	At       time.Time
}

// Instance is one live scheduler instance.
type Instance struct {
	ID string
	// Expires is when its heartbeat lapses unless renewed.
	Expires time.Time
	// Schedules names the schedules it runs, sorted, as its latest
	// Heartbeat said; nil when it runs none, or has only ever called
	// Beat.
	Schedules []string
}

// Ledger is the port. Every method is safe for concurrent use, and every
// method naming a schedule that was never registered returns an error
// wrapping ErrUnknownSchedule (Claim included).
type Ledger interface {
	// Register records (or replaces) a schedule's definition, keeping
	// its paused state and history.
	Register(ctx context.Context, d Definition) error
	// Schedules returns every registered schedule, sorted by name.
	Schedules(ctx context.Context) ([]Schedule, error)
	// Schedule returns one schedule's state.
	Schedule(ctx context.Context, name string) (Schedule, error)
	// SetPaused pauses or resumes a schedule fleet-wide.
	SetPaused(ctx context.Context, name string, paused bool) error

	// Claim asks for the schedule's run slot for a tick. A ledger-side
	// clean-up comes with it: a lapsed claim's running record is
	// recorded as Abandoned.
	Claim(ctx context.Context, r ClaimRequest) (Claim, error)
	// Renew extends the caller's live claim by r.TTL. It reports false
	// when the claim lapsed or someone else holds the slot now.
	Renew(ctx context.Context, r ClaimRequest) (bool, error)
	// Finish marks r.Tick done (unless r.Manual; a manual claim's
	// r.Request is removed instead) and frees the slot if r.Owner holds
	// it. With an empty Owner it only marks the tick or request done.
	Finish(ctx context.Context, r ClaimRequest) error
	// Release frees the slot if r.Owner holds it, leaving the tick not
	// done, so that another instance can take it over at once.
	Release(ctx context.Context, r ClaimRequest) error

	// Put records a run: a Running record becomes the schedule's
	// running record; any other outcome is appended to the history
	// (replacing the running record of the same run).
	Put(ctx context.Context, r Record) error
	// Runs returns up to limit records of the schedule, newest first,
	// the running one included; limit 0 means all that are kept.
	Runs(ctx context.Context, name string, limit int) ([]Record, error)

	// RequestRun stores a run-now request and pushes it to every
	// subscriber.
	RequestRun(ctx context.Context, name string) (Request, error)
	// TakeRequest claims a pending request: exactly one caller gets true.
	TakeRequest(ctx context.Context, name, id string) (bool, error)
	// PendingRequests lists the requests not yet taken or finished (a
	// request claimed with ClaimRequest.Request stays pending while its
	// run goes on), oldest first.
	PendingRequests(ctx context.Context, name string) ([]Request, error)
	// Subscribe delivers every request made from now until ctx ends. The
	// push is best effort; PendingRequests is the truth. It also delivers
	// a Request with an empty ID and At when a schedule's run slot is
	// freed (Finish or Release by the holder) after another claim found
	// it held, so that a waiter on another instance retries at once
	// rather than at the holder's expiry.
	Subscribe(ctx context.Context) (<-chan Request, error)

	// Beat records that instance is alive for ttl more, keeping the
	// schedules its latest Heartbeat named (they lapse with it).
	Beat(ctx context.Context, instance string, ttl time.Duration) error
	// Heartbeat records that instance is alive for ttl more and runs
	// exactly the schedules named, replacing what it said before. The
	// list lapses with the heartbeat, so an instance that dies leaves
	// every schedule's list of live instances within ttl. Names need
	// not be registered, but must be valid (ErrInvalid otherwise).
	Heartbeat(ctx context.Context, instance string, ttl time.Duration, schedules []string) error
	// Leave removes instance and its schedules from the live instances
	// at once: a clean stop need not wait for its heartbeat to lapse.
	// Leaving an instance that is not listed is not an error.
	Leave(ctx context.Context, instance string) error
	// Instances returns the instances whose heartbeat is live, sorted,
	// each with the schedules it runs.
	Instances(ctx context.Context) ([]Instance, error)
}

// Rejoiner is implemented by ledgers whose heartbeat can tell that the
// instance was not listed when it came: its heartbeats had lapsed, or the
// ledger lost its data (a Redis restarted without persistence, or failed
// over to a replica that had not seen the writes). The same loss takes the
// schedules' definitions, so a scheduler that finds itself rejoining
// registers its schedules again rather than leaving them unknown to the
// fleet's controls until their next ticks.
type Rejoiner interface {
	// HeartbeatListed is Heartbeat, also reporting whether the instance's
	// previous heartbeat was still live when this one was written.
	HeartbeatListed(ctx context.Context, instance string, ttl time.Duration, schedules []string) (wasListed bool, err error)
}

// BatchRegisterer is implemented by ledgers that record many definitions
// in fewer round trips than one Register each: a scheduler starting with
// thousands of schedules registers them all at once.
type BatchRegisterer interface {
	// RegisterAll is Register for each of defs. Every name is checked
	// before anything is written, so a bad name writes nothing.
	RegisterAll(ctx context.Context, defs []Definition) error
}

// RegisterAll registers defs in l: in one batch when l implements
// BatchRegisterer, else one Register each, in order.
func RegisterAll(ctx context.Context, l Ledger, defs []Definition) error {
	if b, ok := l.(BatchRegisterer); ok {
		return b.RegisterAll(ctx, defs)
	}
	for _, d := range defs {
		if err := l.Register(ctx, d); err != nil {
			return err
		}
	}
	return nil
}
