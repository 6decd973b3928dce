// Package scheduler runs cron schedules across a fleet so that each tick
// runs on exactly one instance, even when instances' clocks disagree and the
// job takes a millisecond.
//
// A run is identified by schedule name plus scheduled tick, computed from the
// spec rather than read from the wall clock, so every instance agrees on it.
// The first instance to reach a tick claims it in the fleet's ledger
// (Ports.Ledger) and holds the claim while the run goes on; every other
// instance finds it held, or the tick done, and only watches, to take the
// tick over as the next attempt if the winner dies. The run itself holds
// "schedule:<name>" in Ports.Locks, which enforces the overlap policy
// fleet-wide and gives the handler a fencing token. The ledger records every
// run, and carries the fleet-wide controls: Pause, Resume, RunNow.
//
// Time comes only from Ports.Clock, so a fake clock's Advance drives runs in
// tests.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
)

// Handler is the work of one run. Its ctx carries the app's Ports and is
// cancelled on timeout, lease loss or a forced stop; RunFrom(ctx) says
// which run it is.
type Handler func(ctx *ctx.Context) error

// Errors Add returns, wrapped with the schedule's name.
var (
	ErrInvalidName   = errors.New("scheduler: invalid schedule name")
	ErrDuplicateName = errors.New("scheduler: duplicate schedule name")
	ErrNilHandler    = errors.New("scheduler: nil handler")
	ErrInvalidOption = errors.New("scheduler: invalid schedule option")
	// ErrNoLedger: Start on Ports whose Locks are shared (not the
	// in-memory adapter) but whose Ledger is nil. Ticks are claimed in the
	// ledger, so a private one would let every instance run every tick.
	// Set Ports.Ledger (redislocks.NewLedger on the locks' client).
	ErrNoLedger = errors.New("scheduler: Ports.Ledger is nil while Ports.Locks is shared")
	// ErrStopped is the cause of a handler's ctx cancellation when Stop's
	// deadline passes.
	ErrStopped = errors.New("scheduler: stopped")
)

// Scheduler runs schedules under leases from Ports.Locks.
type Scheduler struct {
	ports *ctx.Ports
	led   ledger.Ledger
	// ledgerMissing: see ErrNoLedger.
	ledgerMissing bool
	opts          options
	log           *zap.Logger
	tracer        trace.Tracer

	mu      sync.Mutex
	entries map[string]*entry
	order   []*entry
	tasks   map[string]*Task
	state   int // stateNew, stateRunning, stateStopped
	counts  map[string]map[Outcome]uint64
	beats   map[string]*heartbeat
	freed   map[string]chan struct{} // see freedChan
	// carrier is the schedule whose loop writes the heartbeat, due next
	// at beatDue (see liveness.go); beatMu orders heartbeats.
	carrier *entry
	beatDue time.Time
	beatMu  sync.Mutex
	// beaten is whether a heartbeat has listed this instance, so a later
	// one that finds it unlisted means it is rejoining, and reregister
	// that the schedules' definitions must be written again. beatMu
	// guards both.
	beaten, reregister bool
	// beating is set while startHeartbeat's goroutine writes; s.mu
	// guards it.
	beating bool

	loopCtx    context.Context // ends when Stop begins: no new runs
	stopLoops  context.CancelFunc
	runCtx     context.Context // ends when Stop's deadline passes
	cancelRuns context.CancelCauseFunc
	loops      sync.WaitGroup
	runs       sync.WaitGroup
}

const (
	stateNew = iota
	stateRunning
	stateStopped
)

type entry struct {
	name    string
	spec    string
	loc     *time.Location // the zone the spec is read in
	sched   cron.Schedule
	handler Handler
	o       scheduleOptions
	skew    time.Duration // effective tolerance for this schedule

	// ctx ends when the scheduler stops or the schedule is removed; stop
	// ends it. Both are set when its loop starts.
	ctx  context.Context
	stop context.CancelFunc
	// looping is true while its loop runs (s.mu); kick wakes the loop to
	// take up the heartbeat.
	looping bool
	kick    chan struct{}
}

// registerTimeout bounds the ledger writes of Start and Add, which take
// no ctx.
const registerTimeout = 10 * time.Second

// New returns a scheduler on ports. Add schedules, then Start it.
func New(ports *ctx.Ports, opts ...Option) *Scheduler {
	o := options{skew: DefaultSkewTolerance, loc: time.UTC}
	for _, f := range opts {
		f(&o)
	}
	if o.loc == nil {
		// WithLocation(nil) (a failed LoadLocation's result, say) would
		// leave robfig's default, time.Local: instances whose TZ differs
		// would compute different ticks and each run its own.
		o.loc = time.UTC
	}
	if o.instance == "" {
		host, _ := os.Hostname()
		o.instance = fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.N(1<<16))
	}
	log := ports.Logger
	if log == nil {
		log = zap.NewNop()
	}
	led := ports.Ledger
	if led == nil {
		led = ledger.NewMemory(ledger.WithClock(ports.Clock))
	}
	_, memLocks := ports.Locks.(*locks.Memory)
	return &Scheduler{
		ports: ports,
		led:   led,
		// Shared locks with a private ledger would run every tick on
		// every instance: Start refuses.
		ledgerMissing: ports.Ledger == nil && ports.Locks != nil && !memLocks,
		opts:          o,
		log:           log.Named("scheduler"),
		tracer:        newTracer(o.tracerProvider),
		entries:       make(map[string]*entry),
		tasks:         make(map[string]*Task),
		counts:        make(map[string]map[Outcome]uint64),
		beats:         make(map[string]*heartbeat),
		freed:         make(map[string]chan struct{}),
	}
}

// Add registers a schedule. The spec is a 5-field cron spec, 6 with leading
// seconds, a descriptor (@daily, @every 30s), optionally prefixed by
// CRON_TZ=<zone> or TZ=<zone>. Add may be called before or after Start.
func (s *Scheduler) Add(name, spec string, h Handler, opts ...ScheduleOption) error {
	e, err := s.newEntry(name, spec, h, opts)
	if err != nil {
		return err
	}
	started, err := s.add(e)
	if started {
		// The fleet sees this instance run it at once, not at the
		// next heartbeat.
		s.heartbeat(s.loopCtx)
	}
	return err
}

// add registers e, and starts its loop if the scheduler runs, which it
// reports.
func (s *Scheduler) add(e *entry) (started bool, err error) {
	name := e.name
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.entries[name]; dup {
		return false, fmt.Errorf("%w: %q", ErrDuplicateName, name)
	}
	if _, dup := s.tasks[name]; dup {
		return false, fmt.Errorf("%w: %q: a task has that name", ErrDuplicateName, name)
	}
	if s.state == stateStopped {
		return false, fmt.Errorf("scheduler: add %q: %w", name, ErrStopped)
	}
	if s.state == stateRunning {
		rctx, cancel := context.WithTimeout(context.Background(), registerTimeout)
		defer cancel()
		if err := s.register(rctx, e); err != nil {
			return false, err
		}
	}
	s.entries[name] = e
	s.order = append(s.order, e)
	if s.counts[name] == nil {
		s.counts[name] = make(map[Outcome]uint64)
	}
	if s.state == stateRunning {
		s.startLoop(e)
		return true, nil
	}
	return false, nil
}

func (s *Scheduler) newEntry(name, spec string, h Handler, opts []ScheduleOption) (*entry, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty name", ErrInvalidName)
	}
	if len(name) > MaxNameBytes {
		return nil, fmt.Errorf("%w %.32q...: %d bytes, over the %d-byte limit (MaxNameBytes)", ErrInvalidName, name, len(name), MaxNameBytes)
	}
	if err := locks.ValidateKey(leaseKey(name)); err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrInvalidName, name, err)
	}
	if h == nil {
		return nil, fmt.Errorf("%w for schedule %q", ErrNilHandler, name)
	}
	now := s.ports.Clock.Now()
	sched, err := ParseSpecAt(spec, s.opts.loc, now)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", name, err)
	}
	o := scheduleOptions{ttl: DefaultLeaseTTL}
	for _, f := range append(append([]ScheduleOption(nil), s.opts.sched...), opts...) {
		f(&o)
	}
	interval := minInterval(sched, now)
	if err := locks.ValidateTTLFor(s.ports.Locks, o.ttl); err != nil {
		// The backend would refuse it on every tick; say so once, here.
		return nil, fmt.Errorf("%w: schedule %q: lease TTL: %w", ErrInvalidOption, name, err)
	}
	switch {
	case o.retry && (o.attempts < 1 || o.backoff <= 0 || o.maxBackoff < o.backoff):
		return nil, fmt.Errorf("%w: schedule %q: Retry(%d, %v, %v): want max >= 1, first > 0 and maxBackoff >= first", ErrInvalidOption, name, o.attempts, o.backoff, o.maxBackoff)
	case o.timeout < 0:
		return nil, fmt.Errorf("%w: schedule %q: timeout %v must be >= 0", ErrInvalidOption, name, o.timeout)
	case o.jitter < 0 || (interval > 0 && o.jitter >= interval):
		return nil, fmt.Errorf("%w: schedule %q: jitter %v must be >= 0 and below the interval %v", ErrInvalidOption, name, o.jitter, interval)
	case s.opts.skew < MinSkewTolerance:
		return nil, fmt.Errorf("%w: schedule %q: skew tolerance %v is below the minimum %v (MinSkewTolerance)", ErrInvalidOption, name, s.opts.skew, MinSkewTolerance)
	}
	skew := s.opts.skew
	if interval > 0 {
		skew = min(skew, interval/2)
	}
	if !o.retry {
		o.attempts = 1
	}
	loc := time.UTC
	if w, ok := sched.(wallClock); ok {
		loc = w.Location()
	}
	return &entry{name: name, spec: spec, loc: loc, sched: sched, handler: h, o: o, skew: skew,
		stop: func() {}, kick: make(chan struct{}, 1)}, nil
}

// Start begins running the schedules. It returns at once, once the ledger
// lists this instance as live (when it has schedules).
func (s *Scheduler) Start() error {
	s.mu.Lock()
	err := s.startLocked()
	schedules := len(s.order) > 0
	s.mu.Unlock()
	if err == nil && schedules {
		s.heartbeat(s.loopCtx)
	}
	return err
}

func (s *Scheduler) startLocked() error {
	if s.state != stateNew {
		return errors.New("scheduler: Start called twice")
	}
	if s.ledgerMissing && len(s.order) > 0 {
		return fmt.Errorf("%w (Locks is %T)", ErrNoLedger, s.ports.Locks)
	}
	// The ledger learns every schedule before its first tick, so that the
	// fleet's controls and history know it.
	// All at once: a ledger that batches (Redis) takes a few round trips
	// for thousands of schedules, where one Register each would take
	// thousands.
	rctx, cancel := context.WithTimeout(context.Background(), registerTimeout)
	defer cancel()
	defs := make([]ledger.Definition, len(s.order))
	for i, e := range s.order {
		defs[i] = e.definition()
	}
	if err := ledger.RegisterAll(rctx, s.led, defs); err != nil {
		return fmt.Errorf("scheduler: register %d schedules in the ledger: %w", len(defs), err)
	}
	s.loopCtx, s.stopLoops = context.WithCancel(context.Background())
	if len(s.order) > 0 {
		if err := s.subscribeLocked(); err != nil {
			s.stopLoops()
			return fmt.Errorf("scheduler: listen for run-now requests: %w", err)
		}
	}
	s.state = stateRunning
	s.runCtx, s.cancelRuns = context.WithCancelCause(context.Background())
	for _, e := range s.order {
		s.startLoop(e)
	}
	for _, t := range s.tasks {
		s.startTaskLoop(t)
	}
	s.log.Info("scheduler started", zap.String("instance", s.opts.instance),
		zap.Int("schedules", len(s.order)), zap.Int("tasks", len(s.tasks)))
	return nil
}

// Stop stops starting runs and waits for running handlers and task passes
// until ctx ends. Then it cancels them (cause ErrStopped), waits for them to
// return, and their leases are released. It returns ctx's error if it had
// to cancel.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.state != stateRunning {
		s.state = stateStopped
		s.mu.Unlock()
		return nil
	}
	s.state = stateStopped
	s.mu.Unlock()

	s.stopLoops()
	// Task passes run on their loops' goroutines, so the deadline must
	// cover the loops as well as the runs. Runs are only launched by loops,
	// so once the loops are done no run can be added behind runs.Wait.
	done := make(chan struct{})
	go func() { s.loops.Wait(); s.runs.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		s.cancelRuns(ErrStopped)
		<-done
		err = fmt.Errorf("scheduler: running handlers cancelled at the stop deadline: %w", ctx.Err())
	}
	s.cancelRuns(ErrStopped)
	// Listed as alive no longer, at once: a clean stop need not wait
	// HeartbeatTTL for its heartbeat to lapse.
	s.leave()
	s.log.Info("scheduler stopped", zap.String("instance", s.opts.instance))
	return err
}

// Counts returns how many reports of each outcome schedule name has had on
// this instance.
func (s *Scheduler) Counts(name string) map[Outcome]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[Outcome]uint64, len(s.counts[name]))
	for k, v := range s.counts[name] {
		out[k] = v
	}
	return out
}

// startLoop starts e's loop, counted as work in flight from now until it
// first sleeps.
func (s *Scheduler) startLoop(e *entry) {
	e.looping = true
	b := begin(s.ports, "schedule "+e.name)
	b.hb = s.heartbeatLocked(e.name)
	e.ctx, e.stop = context.WithCancel(s.loopCtx)
	s.loops.Add(1)
	go s.loop(e, b)
}

// loop waits for each tick of e and launches its run.
func (s *Scheduler) loop(e *entry, b *busy) {
	defer s.loops.Done()
	defer b.done()
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.loopEndedLocked(e)
	}()
	clock := s.ports.Clock
	now := clock.Now()
	next := e.sched.Next(now)
	if p, ok := prev(e.sched, now); ok {
		switch {
		case now.Sub(p) <= e.skew:
			// Within tolerance of a tick: this instance may simply be
			// behind the others, so it takes part in that tick.
			next = p
		case e.o.runMissed:
			s.launch(e, p)
		}
	}
	for !next.IsZero() {
		if !s.wait(e, b, next) {
			return
		}
		if e.ctx.Err() != nil {
			return
		}
		now := clock.Now()
		tick := next
		next = e.sched.Next(tick)
		// Overslept past whole ticks (a suspended process, a stalled
		// clock): those are missed on this instance.
		for !next.IsZero() && !next.After(now) {
			s.missed(e, tick, now)
			tick, next = next, e.sched.Next(next)
		}
		if now.Sub(tick) > e.skew {
			s.missed(e, tick, now)
			continue
		}
		s.launch(e, tick)
	}
}

func (s *Scheduler) launch(e *entry, tick time.Time) {
	b := begin(s.ports, "run "+e.name+" "+tick.UTC().Format(time.RFC3339Nano))
	s.runs.Add(1)
	go func() {
		defer s.runs.Done()
		defer b.done()
		s.run(e, tick, b)
	}()
}

func (s *Scheduler) missed(e *entry, tick, now time.Time) {
	s.report(Report{
		Schedule: e.name, Tick: tick, Instance: s.opts.instance, Outcome: Missed,
		Err: fmt.Errorf("woke %v after the tick, beyond the skew tolerance %v", now.Sub(tick), e.skew),
	})
}

// MaxNameBytes is the longest schedule name Add accepts (979). It was the
// bound of the per-tick claim key "schedule:<name>:tick:<RFC 3339 tick>"
// that ticks were once claimed under, and is kept so that every name valid
// then stays valid. Every key derived from a name today is within it: the
// run's lease key "schedule:<name>" (988 of locks.MaxKeyBytes, 1024), the
// ledger's name (ledger.MaxNameBytes, 1024), and on Redis the ledger's hash
// "{<prefix>#sched:<name>}", its run list (the same plus ":runs") and the
// run-now push "<name>\x00<id>\x00<ns>", which Redis bounds only at 512 MB.
const MaxNameBytes = locks.MaxKeyBytes - len("schedule:") - len(":tick:") - len(longestTick)

// longestTick is the longest tick claimKey writes (a four-digit year, every
// fractional digit).
const longestTick = "2006-01-02T15:04:05.999999999Z"

func leaseKey(name string) string { return "schedule:" + name }

func claimKey(name string, tick time.Time) string {
	return "schedule:" + name + ":tick:" + tick.UTC().Format(time.RFC3339Nano)
}
