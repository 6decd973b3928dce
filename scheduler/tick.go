package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
)

// run takes part in tick on this instance: it claims the tick in the
// ledger and, if it wins, runs it. Instances that lose keep watching while
// the tick is current, and take it over (as the next attempt) if the
// winner's claim lapses.
func (s *Scheduler) run(e *entry, tick time.Time, b *busy) {
	if e.o.jitter > 0 && b.sleep(rand.N(e.o.jitter), e.ctx.Done(), nil) == wokeByStop {
		return
	}
	s.claimAndRun(e, tick, "", b)
}

// claimAndRun loops on the tick's claim until it is won, done, or no longer
// this instance's to wait for. request is the run-now request of a manual
// run ("" for a tick): every instance that has the schedule claims it,
// one wins, and the others watch its claim, as for a tick, to take it over
// if the winner dies, until the request is finished.
func (s *Scheduler) claimAndRun(e *entry, tick time.Time, request string, b *busy) {
	clock := s.ports.Clock
	manual := request != ""
	next := time.Time{}
	if !manual {
		next = e.sched.Next(tick)
	}
	req := s.claimRequest(e, tick, request)
	// How long an earlier run may hold the slot before this tick gives
	// up: the skew window (a run of the previous tick may still be
	// finishing on an instance whose clock is behind ours), or up to the
	// next tick under OverlapWait. A run-now request waits like
	// OverlapWait, for at most one lease TTL past the running claim.
	overlapEnd := clock.Now().Add(leaseWait(e.skew, e.skew))
	if e.o.overlap == OverlapWait || manual {
		overlapEnd = time.Time{} // bounded by the next tick below, or not at all
	}
	for {
		freed := s.freedChan(e.name)
		c, err := s.led.Claim(s.runCtx, req)
		if errors.Is(err, ledger.ErrUnknownSchedule) {
			// The ledger lost its data (a Redis restarted empty): tell
			// it the schedule again.
			if err = s.register(s.runCtx, e); err == nil {
				c, err = s.led.Claim(s.runCtx, req)
			}
		}
		if err != nil {
			s.report(Report{Schedule: e.name, Tick: tick, Instance: s.opts.instance, Outcome: Failed,
				Err: fmt.Errorf("claim tick: %w", err)})
			return
		}
		now := clock.Now()
		var wait time.Duration
		switch c.State {
		case ledger.Done:
			s.log.Debug("tick done or claimed elsewhere", zap.String("schedule", e.name), zap.Time("tick", tick))
			return
		case ledger.Paused:
			// Only the instance whose claim found the pause gets Paused
			// (the tick is done for the rest), so each paused tick is
			// recorded once, and the pause's gap shows in Runs.
			s.log.Debug("tick skipped: schedule paused", zap.String("schedule", e.name), zap.Time("tick", tick))
			s.putRecord(RunRecord{Schedule: e.name, Tick: tick, Instance: s.opts.instance, Outcome: SkippedPaused,
				Finished: now, Err: "the schedule was paused"})
			return
		case ledger.Won:
			if c.Attempt > 1 && e.o.atMostOnce {
				// A takeover (this run's owner is new, so an attempt
				// past 1 is someone else's that lapsed or was let go):
				// AtMostOnce leaves it abandoned, and closes the tick or
				// request.
				s.log.Warn("not taking over a run that did not finish: AtMostOnce", zap.String("schedule", e.name),
					zap.Time("tick", tick), zap.Bool("manual", manual), zap.Int("attempt", c.Attempt))
				s.putRecord(RunRecord{Schedule: e.name, Tick: tick, Manual: manual, Attempt: c.Attempt, Instance: s.opts.instance,
					FencingToken: c.Token, Outcome: Abandoned, Finished: now,
					Err: "not taken over: the schedule is AtMostOnce and an earlier attempt did not finish"})
				if err := s.led.Finish(s.runCtx, req); err != nil {
					s.log.Error("ledger: finish abandoned run", zap.String("schedule", e.name), zap.Error(err))
				}
				s.slotFreed(e.name)
				return
			}
			if !manual && !c.PrevDone.IsZero() {
				s.recordMissed(e, c.PrevDone, tick)
			}
			s.runClaimed(e, req, c, next, b)
			return
		case ledger.Held:
			if c.HeldTick.Equal(tick) {
				// Another instance runs this tick (or this request).
				// Watch its claim for as long as the tick is current (the
				// request pending), to take over if it lapses, just
				// after by the ledger's clock. Under AtMostOnce a tick
				// is not watched (the next tick's claim records it
				// abandoned); a request is, so that it gets closed.
				if e.o.atMostOnce && !manual {
					return
				}
				wait = c.HeldFor + time.Millisecond
				if !next.IsZero() && !now.Add(wait).Before(next) {
					// The claim outlives the tick's currency: it cannot
					// be taken over in time, and a lapse will be
					// recorded as abandoned by the next tick's claim.
					// Watching would only cost a timer now and a claim
					// at the next tick, when the fleet is busiest.
					return
				}
			} else {
				if !overlapEnd.IsZero() && !now.Before(overlapEnd) {
					s.skipHeld(e, req, c)
					return
				}
				wait = c.HeldFor + time.Millisecond
				if !overlapEnd.IsZero() {
					wait = min(wait, overlapEnd.Sub(now))
				}
			}
		}
		if !next.IsZero() {
			if !now.Before(next) {
				// The tick is no longer current: the next one's claim
				// records a lapsed run as abandoned.
				if !c.HeldTick.Equal(tick) {
					s.skipHeld(e, req, c)
				}
				return
			}
			wait = min(wait, next.Sub(now))
		}
		if b.sleep(max(wait, 0), e.ctx.Done(), freed) == wokeByStop {
			return
		}
	}
}

// skipHeld records that an earlier run held the schedule past this tick's
// overlap allowance, and marks the tick done.
func (s *Scheduler) skipHeld(e *entry, req ledger.ClaimRequest, c ledger.Claim) {
	now := s.ports.Clock.Now()
	rec := RunRecord{Schedule: e.name, Tick: req.Tick, Manual: req.Manual, Instance: s.opts.instance, Outcome: SkippedHeld,
		Started: now, Finished: now, Err: fmt.Sprintf("the run of %s on %s still held the schedule", c.HeldTick.UTC().Format(time.RFC3339), c.HeldBy)}
	s.putRecord(rec)
	fin := req
	fin.Owner = ""
	if err := s.led.Finish(s.runCtx, fin); err != nil {
		s.log.Error("ledger: finish skipped tick", zap.String("schedule", e.name), zap.Error(err))
	}
	s.report(Report{Schedule: e.name, Tick: req.Tick, Instance: s.opts.instance, Outcome: SkippedHeld, Start: now})
}

// runClaimed runs a won claim: under the claim (renewed, released if the
// run ends without finishing the tick) and the schedule's lease, it runs
// the handler, and again after a failure while Retry allows.
func (s *Scheduler) runClaimed(e *entry, req ledger.ClaimRequest, c ledger.Claim, next time.Time, b *busy) {
	clock := s.ports.Clock
	cl := &claimLease{led: s.led, clock: clock, req: req, token: c.Token,
		trustEnd: locks.TrustWindowEnd(clock.Now(), req.TTL)}
	md := map[string]string{"instance": s.opts.instance, "tick": req.Tick.UTC().Format(time.RFC3339Nano)}
	if req.Manual {
		md["manual"] = "true"
	}
	// The schedule's lease is normally free by now: its previous holder
	// finished the tick before releasing it. A takeover waits for the
	// dead holder's lease to lapse too; both were renewed together.
	wait := leaseWait(e.skew, e.skew)
	if c.Attempt > 1 || e.o.overlap == OverlapWait || req.Manual {
		wait = leaseWait(e.o.ttl, e.skew)
	}
	if !next.IsZero() {
		wait = min(wait, max(next.Sub(clock.Now()), 0))
	}
	// Reports go out once the claim and the lease are let go, so that a
	// hook seeing a run's end can count on the schedule being free.
	var reports []Report
	defer func() {
		for _, r := range reports {
			s.report(r)
		}
	}()
	done := false
	attempt := c.Attempt
	start := clock.Now()
	var token uint64
	var runErr error
	err := locks.RunWithLease(s.runCtx, clock, heldClaim{cl}, cl.Key(), locks.Options{TTL: req.TTL},
		func(cctx context.Context, _ locks.Lease) error {
			runErr = s.ports.Locks.WithLease(cctx, leaseKey(e.name), locks.Options{TTL: e.o.ttl, Wait: wait, Metadata: md},
				func(lctx context.Context, lease locks.Lease) error {
					token = lease.FencingToken()
					for {
						outcome, r, herr := s.attempt(e, lctx, req, attempt, lease)
						reports = append(reports, r)
						if outcome == Ran {
							done = true
							return nil
						}
						if lctx.Err() != nil {
							return herr // lost or stopped: not done, someone may take over
						}
						backoff := retryBackoff(e.o, attempt)
						if attempt >= e.o.attempts || (!next.IsZero() && !clock.Now().Add(backoff).Before(next)) {
							done = true // retries used up, or no time before the next tick
							return herr
						}
						if b.sleep(backoff, lctx.Done(), nil) == wokeByStop || lctx.Err() != nil {
							return herr
						}
						rc, err := s.led.Claim(lctx, req)
						if err != nil || rc.State != ledger.Won {
							return errors.Join(herr, err)
						}
						attempt = rc.Attempt
					}
				})
			switch {
			case errors.Is(runErr, locks.ErrNotAcquired):
				// An earlier run still holds the schedule's lease.
				now := clock.Now()
				s.putRecord(RunRecord{Schedule: e.name, Tick: req.Tick, Manual: req.Manual, Attempt: attempt, Instance: s.opts.instance,
					Outcome: SkippedHeld, Started: start, Finished: now, Err: "an earlier run still held the schedule's lease"})
				reports = append(reports, Report{Schedule: e.name, Tick: req.Tick, Instance: s.opts.instance, Outcome: SkippedHeld, Start: start, Duration: clock.Since(start)})
				done = true
			case runErr != nil && token == 0:
				// The lease backend failed before the handler ran; the
				// claim is released, so another instance may run it.
				s.putRecord(RunRecord{Schedule: e.name, Tick: req.Tick, Manual: req.Manual, Attempt: attempt, Instance: s.opts.instance,
					Outcome: Failed, Started: start, Finished: clock.Now(), Err: runErr.Error()})
				reports = append(reports, Report{Schedule: e.name, Tick: req.Tick, Instance: s.opts.instance, Attempt: attempt, Outcome: Failed, Start: start,
					Duration: clock.Since(start), Err: runErr})
			}
			if done {
				// Done before the claim is let go, so that no instance
				// finds the slot free and the tick not done.
				fctx, cancel := context.WithTimeout(context.WithoutCancel(cctx), e.o.ttl)
				defer cancel()
				if ferr := s.led.Finish(fctx, req); ferr != nil {
					s.log.Error("ledger: finish tick", zap.String("schedule", e.name), zap.Time("tick", req.Tick), zap.Error(ferr))
				}
			}
			return nil
		})
	if err != nil && !errors.Is(err, locks.ErrLeaseLost) {
		s.log.Error("ledger: release claim", zap.String("schedule", e.name), zap.Time("tick", req.Tick), zap.Error(err))
	}
	s.slotFreed(e.name)
}

// attempt runs the handler once and records it: running, then its
// outcome. It returns the attempt's report, for the caller to send.
func (s *Scheduler) attempt(e *entry, lctx context.Context, req ledger.ClaimRequest, attempt int, lease locks.Lease) (Outcome, Report, error) {
	clock := s.ports.Clock
	start := clock.Now()
	rec := RunRecord{Schedule: e.name, Tick: req.Tick, Manual: req.Manual, Attempt: attempt, Instance: s.opts.instance,
		FencingToken: lease.FencingToken(), Outcome: Running, Started: start}
	s.putRecord(rec)
	rctx, span := s.startSpan(lctx, e.name, req.Tick, attempt, start)
	outcome, err := s.call(e, rctx, Run{Schedule: e.name, Tick: req.Tick, Lease: lease, Instance: s.opts.instance,
		Attempt: attempt, Manual: req.Manual})
	if outcome == LeaseLost {
		err = errors.Join(err, fmt.Errorf("%w: %q", locks.ErrLeaseLost, leaseKey(e.name)))
	}
	rec.Outcome, rec.Finished = outcome, clock.Now()
	if err != nil {
		rec.Err = err.Error()
	}
	s.putRecord(rec)
	r := Report{Schedule: e.name, Tick: req.Tick, Instance: s.opts.instance, FencingToken: lease.FencingToken(), Attempt: attempt,
		Outcome: outcome, Start: start, Duration: clock.Since(start), Err: err}
	s.endSpan(span, r)
	return outcome, r, err
}

// putRecord writes a record to the ledger; a failure is logged, not fatal
// to the run.
func (s *Scheduler) putRecord(r RunRecord) {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(s.runCtx), registerTimeout)
	defer cancel()
	if err := s.led.Put(pctx, r); err != nil {
		s.log.Error("ledger: record run", zap.String("schedule", r.Schedule), zap.Time("tick", r.Tick),
			zap.String("outcome", string(r.Outcome)), zap.Error(err))
	}
}

// retryBackoff is the pause after attempt: first, doubled per attempt,
// capped at the maximum.
func retryBackoff(o scheduleOptions, attempt int) time.Duration {
	d := o.backoff
	for i := 1; i < attempt && d < o.maxBackoff; i++ {
		if d > o.maxBackoff/2 {
			return o.maxBackoff // doubling would pass the cap, or overflow
		}
		d *= 2
	}
	return min(d, o.maxBackoff)
}

// recordMissed records, as Missed, the ticks between the latest tick done
// and tick, which no instance ran (the whole fleet was down). At most the
// ledger's history is recorded, newest first.
func (s *Scheduler) recordMissed(e *entry, since, tick time.Time) {
	now := s.ports.Clock.Now()
	var missed []time.Time
	t := tick
	for len(missed) < ledger.DefaultHistory {
		p, ok := prev(e.sched, t.Add(-time.Nanosecond))
		if !ok || !p.After(since) {
			break
		}
		missed = append(missed, p)
		t = p
	}
	for i := len(missed) - 1; i >= 0; i-- {
		s.putRecord(RunRecord{Schedule: e.name, Tick: missed[i], Instance: s.opts.instance, Outcome: Missed,
			Finished: now, Err: "no instance ran it: the fleet was down, or every instance woke too late"})
	}
	if len(missed) > 0 {
		s.log.Warn("ticks missed by the whole fleet", zap.String("schedule", e.name), zap.Int("recorded", len(missed)),
			zap.Time("since", since), zap.Time("until", tick))
	}
}
