package scheduler

import (
	"errors"

	"fmt"
	"go.uber.org/zap"
	"slices"
	"strings"
	"sync/atomic"
	"time"
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

// heartbeatSlack is how long past its next planned wake-up an instance
// stays listed as alive in the ledger, and how far ahead each heartbeat
// reaches, so that an every-second schedule writes one heartbeat per
// slack rather than one per tick.
const heartbeatSlack = 30 * time.Second

// beat tells the ledger this instance is alive until after its next
// wake-up at until. It writes only when the last heartbeat would lapse
// before then.
func (s *Scheduler) beat(until time.Time) {
	now := s.ports.Clock.Now()
	want := until.Add(heartbeatSlack)
	s.mu.Lock()
	if !want.After(s.alive) {
		s.mu.Unlock()
		return
	}
	s.alive = want.Add(heartbeatSlack)
	ttl := s.alive.Sub(now)
	s.mu.Unlock()
	if err := s.led.Beat(s.loopCtx, s.opts.instance, ttl); err != nil && s.loopCtx.Err() == nil {
		s.log.Warn("ledger: heartbeat", zap.Error(err))
	}
}
