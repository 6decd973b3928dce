package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/wakes"
	"github.com/beignet-go/beignet/ledger"
)

// ErrStalled is wrapped by CheckLoops's error when a loop has not turned
// within two of its intervals.
var ErrStalled = errors.New("scheduler: loop stalled")

// ErrNotRunning is wrapped by CheckLoops's error before Start and after Stop.
var ErrNotRunning = errors.New("scheduler: not running")

// heartbeat is what one schedule's or task's loop last said about itself:
// when it turned, and when it means to turn next. Both are Unix nanoseconds
// of Ports.Clock; due 0 means the loop is not waiting (a pass is running,
// or the schedule has no further tick).
type heartbeat struct {
	turned atomic.Int64
	due    atomic.Int64
}

func (h *heartbeat) beat(now, due time.Time) {
	h.turned.Store(now.UnixNano())
	if !due.After(now) {
		h.due.Store(0)
		return
	}
	h.due.Store(due.UnixNano())
}

// minStallGrace keeps a loop that armed a very short timer (it woke just
// before a tick) from counting as stalled over ordinary wake-up latency.
const minStallGrace = time.Second

// stalled reports whether the loop has overslept its next turn by more
// than one interval, that is, has not turned within two of its intervals.
func (h *heartbeat) stalled(now time.Time) bool {
	due := h.due.Load()
	if due == 0 {
		return false
	}
	grace := max(time.Duration(due-h.turned.Load()), minStallGrace)
	return now.UnixNano() > due+int64(grace)
}

// CheckLoops returns nil while every schedule's and task's loop keeps
// turning. It returns an error wrapping ErrStalled, naming the loops, once
// one has not turned within two of its intervals (a stuck clock, a
// deadlock, a process that was suspended), and one wrapping ErrNotRunning
// before Start or after Stop. A loop busy with a task's pass counts as
// turning: the pass is bounded by its lease. It is meant for readiness
// checks.
func (s *Scheduler) CheckLoops() error {
	now := s.ports.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateNew && len(s.entries)+len(s.tasks) == 0 {
		return nil // nothing to run, so nothing can stall
	}
	if s.state != stateRunning {
		return fmt.Errorf("%w: %d schedules and tasks registered", ErrNotRunning, len(s.beats))
	}
	var stalled []string
	for name, h := range s.beats {
		if h.stalled(now) {
			stalled = append(stalled, fmt.Sprintf("%q (last turned %v ago)", name, now.Sub(time.Unix(0, h.turned.Load()))))
		}
	}
	if len(stalled) == 0 {
		return nil
	}
	slices.Sort(stalled)
	return fmt.Errorf("%w: %s", ErrStalled, strings.Join(stalled, ", "))
}

// heartbeatLocked returns name's heartbeat, created on first use. s.mu must be
// held.
func (s *Scheduler) heartbeatLocked(name string) *heartbeat {
	h, ok := s.beats[name]
	if !ok {
		h = new(heartbeat)
		s.beats[name] = h
	}
	return h
}

// HeartbeatInterval is how often a started scheduler with schedules tells
// the ledger that it is alive, and which schedules it runs.
const HeartbeatInterval = 10 * time.Second

// HeartbeatTTL is how long the ledger lists an instance after its latest
// heartbeat. An instance that dies (SIGKILL, OOM, a drained node) leaves
// the ledger's Instances, and every schedule's live instances, within
// HeartbeatTTL of its last heartbeat: at most 30 s after it died, whatever
// its schedules' intervals (on Redis, plus the skew between its clock and
// the reader's). A live instance survives two heartbeats lost in a row (a
// Redis blip). Stop takes the instance off the list at once.
const HeartbeatTTL = 3 * HeartbeatInterval

// The heartbeat rides on one schedule loop's timer, the carrier's, rather
// than on a goroutine and timer of its own: the carrier sleeps at most
// until the next heartbeat is due, writes it, and sleeps on towards its
// tick. A fake clock therefore holds exactly one waiter per schedule, as it
// did before there was a heartbeat, so tests (and apps' tests) that wait
// for "n timers" with BlockUntil keep their counts; and the carrier's early
// wake-ups are chores (ctx.ChoreTracker), which beignettest's Advance does
// not step to, so a day's Advance stays one step per tick, not 8,640.

// carryingLocked reports whether e's loop carries the heartbeat, making
// it the carrier if none is. s.mu must be held.
func (s *Scheduler) carryingLocked(e *entry) bool {
	if s.carrier == nil && e.looping {
		s.carrier = e
	}
	return s.carrier == e
}

// loopEndedLocked hands the heartbeat on when e's loop ends (Remove, or a
// spec with no further tick): another looping schedule becomes the carrier
// and is woken to take it up. A kick sent to e and never taken is counted
// as received, so a test's tracker does not wait for it. It may be called
// more than once. s.mu must be held.
func (s *Scheduler) loopEndedLocked(e *entry) {
	e.looping = false
	select {
	case <-e.kick:
		if k, ok := s.ports.Work.(wakes.Counter); ok {
			k.Received(e.kick)
		}
	default:
	}
	if s.carrier != e {
		return
	}
	s.carrier = nil
	if s.state != stateRunning {
		return
	}
	for _, o := range s.order {
		if o.looping {
			s.carrier = o
			kick(s.ports, o.kick)
			return
		}
	}
}

// kick wakes the loop that sleeps on ch, counting the wake-up with a
// test's tracker until the loop takes it up.
func kick(ports *ctx.Ports, ch chan struct{}) {
	var unsent func()
	if k, ok := ports.Work.(wakes.Counter); ok {
		unsent = k.Sending(ch)
	}
	select {
	case ch <- struct{}{}:
	default: // a kick is already waiting, and counted
		if unsent != nil {
			unsent()
		}
	}
}

// wait sleeps until next and reports true, or false once e's loop must
// stop. When e's loop carries the heartbeat, it wakes on the way for each
// heartbeat that falls due.
func (s *Scheduler) wait(e *entry, b *busy, next time.Time) bool {
	clock := s.ports.Clock
	for {
		now := clock.Now()
		d := next.Sub(now)
		if d <= 0 {
			return true
		}
		s.mu.Lock()
		carrier, due := s.carryingLocked(e), s.beatDue
		s.mu.Unlock()
		chore := d
		if carrier {
			if !now.Before(due) {
				s.startHeartbeat()
				s.mu.Lock()
				due = s.beatDue
				s.mu.Unlock()
			}
			if due.After(now) {
				chore = min(d, due.Sub(now))
			}
		}
		if b.sleepChore(d, chore, e.ctx.Done(), e.kick) == wokeByStop {
			return false
		}
	}
}

// startHeartbeat writes a heartbeat from a goroutine of its own, so that
// a ledger that hangs does not hold up the carrier's ticks, one at a time:
// while one hangs, the next is skipped. Stop waits for it (it is counted
// in s.loops), and so does a test's Advance.
func (s *Scheduler) startHeartbeat() {
	s.mu.Lock()
	if s.state != stateRunning || s.beating {
		s.mu.Unlock()
		return
	}
	s.beating = true
	s.beatDue = s.ports.Clock.Now().Add(HeartbeatInterval)
	// The carrier's own loop is counted in s.loops while it calls this,
	// so this Add cannot race Stop's Wait to zero.
	s.loops.Add(1)
	s.mu.Unlock()
	b := begin(s.ports, "heartbeat")
	go func() {
		defer s.loops.Done()
		defer b.done()
		s.heartbeat(s.loopCtx)
		s.mu.Lock()
		s.beating = false
		s.mu.Unlock()
	}()
}

// heartbeat tells the ledger this instance is alive for HeartbeatTTL more
// and which schedules it runs. Heartbeats are written one at a time, each
// with the list as it was when its turn came, so a Remove's heartbeat is
// never overwritten by an older list. Nothing is written once Stop began.
func (s *Scheduler) heartbeat(ctx context.Context) {
	s.beatMu.Lock()
	defer s.beatMu.Unlock()
	s.mu.Lock()
	if s.state != stateRunning {
		s.mu.Unlock()
		return
	}
	names := s.namesLocked()
	s.beatDue = s.ports.Clock.Now().Add(HeartbeatInterval)
	s.mu.Unlock()
	// A heartbeat that hangs must not hold up the carrier's ticks.
	hctx, cancel := context.WithTimeout(ctx, HeartbeatInterval)
	defer cancel()
	wasListed, err := s.writeHeartbeat(hctx, names)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("ledger: heartbeat", zap.Error(err))
		}
		return
	}
	if !wasListed && s.beaten {
		// Not listed, though this instance has been beating: its
		// heartbeats lapsed (a long outage, or a test's long Advance)
		// or the ledger lost its data (Redis restarted empty), and then
		// the definitions may have gone too.
		s.reregister = true
	}
	s.beaten = true
	if !s.reregister {
		return
	}
	// Register again only the definitions the ledger lacks, or the
	// fleet's controls would call those schedules unknown until their
	// next ticks, hours away for a daily one. A definition still there
	// is left alone: it may be a newer spec another instance wrote
	// during a rolling deploy. Until this works, every heartbeat tries.
	missing, err := s.missingDefinitions(hctx)
	if err == nil && len(missing) > 0 {
		err = ledger.RegisterAll(hctx, s.led, missing)
	}
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("ledger: register the schedules again after rejoining the live instances", zap.Error(err))
		}
		return
	}
	s.reregister = false
	if len(missing) > 0 {
		names := make([]string, len(missing))
		for i, d := range missing {
			names[i] = d.Name
		}
		s.log.Warn("ledger: it had lost these schedules' definitions (a Redis restarted without persistence?); registered them again; their run history, pauses and pending run-now requests are gone",
			zap.Strings("schedules", names))
	}
}

// writeHeartbeat writes the heartbeat and reports whether the instance was
// listed before it. A ledger that cannot tell (no ledger.Rejoiner) is
// taken to have kept it listed: nothing is registered again.
func (s *Scheduler) writeHeartbeat(ctx context.Context, names []string) (wasListed bool, err error) {
	if r, ok := s.led.(ledger.Rejoiner); ok {
		return r.HeartbeatListed(ctx, s.opts.instance, HeartbeatTTL, names)
	}
	return true, s.led.Heartbeat(ctx, s.opts.instance, HeartbeatTTL, names)
}

// missingDefinitions returns the definitions of this instance's schedules
// that the ledger does not have.
func (s *Scheduler) missingDefinitions(ctx context.Context) ([]ledger.Definition, error) {
	have, err := s.led.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(have))
	for _, h := range have {
		known[h.Name] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var missing []ledger.Definition
	for _, e := range s.order {
		if !known[e.name] {
			missing = append(missing, e.definition())
		}
	}
	return missing, nil
}

// namesLocked returns the names of the schedules this instance runs.
// s.mu must be held.
func (s *Scheduler) namesLocked() []string {
	names := make([]string, 0, len(s.order))
	for _, e := range s.order {
		names = append(names, e.name)
	}
	return names
}

// leave takes this instance off the ledger's list of live instances,
// after any heartbeat being written.
func (s *Scheduler) leave() {
	s.beatMu.Lock()
	defer s.beatMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), registerTimeout)
	defer cancel()
	if err := s.led.Leave(ctx, s.opts.instance); err != nil {
		s.log.Warn("ledger: leave the live instances", zap.Error(err))
	}
}
