package scheduler

import (
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Defaults.
const (
	// DefaultSkewTolerance is how far instances' clocks (and wake-ups) may
	// disagree while each tick still runs exactly once. It is capped per
	// schedule at half the schedule's interval.
	DefaultSkewTolerance = 2 * time.Second
	// MinSkewTolerance is the smallest skew tolerance Add accepts. The
	// tolerance also covers how late a timer wakes, which is never zero:
	// with less than this, ordinary latency (a GC pause, a busy CPU)
	// would make every instance report ticks missed and none run them.
	MinSkewTolerance = 100 * time.Millisecond
	// DefaultLeaseTTL is the TTL of a run's lease, renewed while it runs.
	DefaultLeaseTTL = 30 * time.Second
)

type options struct {
	instance string
	skew     time.Duration
	loc      *time.Location
	hooks    []Hook
	sched    []ScheduleOption

	tracerProvider trace.TracerProvider
}

// Option configures a Scheduler.
type Option func(*options)

// WithInstanceID names this instance in logs, reports and lease metadata
// (default: host name, pid and a random suffix).
func WithInstanceID(id string) Option { return func(o *options) { o.instance = id } }

// WithSkewTolerance sets how far instances' clocks, and their wake-ups,
// may disagree (default DefaultSkewTolerance, capped at half each
// schedule's interval). Add refuses values below MinSkewTolerance,
// including zero and negative ones, with ErrInvalidOption.
func WithSkewTolerance(d time.Duration) Option { return func(o *options) { o.skew = d } }

// WithLocation sets the time zone of specs that have no CRON_TZ= or TZ=
// prefix (default time.UTC, so that instances whose TZ differs agree; nil
// also means UTC, never the process's time.Local).
func WithLocation(loc *time.Location) Option { return func(o *options) { o.loc = loc } }

// WithHook adds a hook that observes every run, for metrics.
func WithHook(h Hook) Option { return func(o *options) { o.hooks = append(o.hooks, h) } }

// WithScheduleDefaults applies opts to every schedule before its own.
func WithScheduleDefaults(opts ...ScheduleOption) Option {
	return func(o *options) { o.sched = append(o.sched, opts...) }
}

// Overlap says what a tick does when the previous run is still going
// anywhere in the fleet.
type Overlap int

const (
	// OverlapSkip skips the tick (the default).
	OverlapSkip Overlap = iota
	// OverlapWait waits for the previous run, up to the next tick.
	OverlapWait
)

type scheduleOptions struct {
	ttl       time.Duration
	timeout   time.Duration
	overlap   Overlap
	jitter    time.Duration
	runMissed bool

	// Retries: max attempts per tick (1: none), the first backoff and
	// its cap. atMostOnce turns crash takeover off.
	retry      bool
	attempts   int
	backoff    time.Duration
	maxBackoff time.Duration
	atMostOnce bool
}

// ScheduleOption configures one schedule.
type ScheduleOption func(*scheduleOptions)

// LeaseTTL sets the TTL of the run's lease (default DefaultLeaseTTL). A
// crashed instance blocks the schedule for at most this long.
func LeaseTTL(d time.Duration) ScheduleOption { return func(o *scheduleOptions) { o.ttl = d } }

// Timeout cancels a run's ctx after d (default: none).
func Timeout(d time.Duration) ScheduleOption { return func(o *scheduleOptions) { o.timeout = d } }

// WithOverlap sets the overlap policy (default OverlapSkip).
func WithOverlap(p Overlap) ScheduleOption { return func(o *scheduleOptions) { o.overlap = p } }

// Jitter delays each run by a random amount up to d, to spread load.
func Jitter(d time.Duration) ScheduleOption { return func(o *scheduleOptions) { o.jitter = d } }

// RunMissed runs the latest tick once at start if no instance ran it; the
// ticks missed before it are recorded as Missed. What ran is remembered in
// the ledger, so this only sees ticks missed by the whole fleet when the
// ledger outlives the fleet (Redis, not memory).
func RunMissed() ScheduleOption { return func(o *scheduleOptions) { o.runMissed = true } }

// Retry runs a tick again when its handler fails (an error, a panic, a
// timeout), with exponential backoff from first up to maxBackoff, as long
// as the next tick is not due. max counts all attempts, the first
// included: Retry(3, ...) is the first try and two retries. Each attempt
// is a record in the ledger. Add refuses max < 1, first <= 0 or
// maxBackoff < first with ErrInvalidOption.
func Retry(max int, first, maxBackoff time.Duration) ScheduleOption {
	return func(o *scheduleOptions) {
		o.retry, o.attempts, o.backoff, o.maxBackoff = true, max, first, maxBackoff
	}
}

// AtMostOnce opts out of crash takeover: a tick whose instance died
// mid-run is recorded as Abandoned instead of being run again elsewhere.
// For handlers that must never run twice, even partially, and that do not
// fence their writes with the run's token.
func AtMostOnce() ScheduleOption { return func(o *scheduleOptions) { o.atMostOnce = true } }
