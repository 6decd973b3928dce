package scheduler

import (
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ledger"
)

// listen runs the run-now requests pushed to this instance until Stop. On
// start it also takes the requests that were made while no instance
// listened. The push is best effort; a request it misses waits in the
// ledger for the next instance to start.
func (s *Scheduler) listen(reqs <-chan ledger.Request, b *busy) {
	defer s.loops.Done()
	s.mu.Lock()
	entries := append([]*entry(nil), s.order...)
	s.mu.Unlock()
	for _, e := range entries {
		s.takePending(e)
	}
	// The waiting requests are claimed (each run counted on its own), so
	// a test's Advance after Start sees them.
	b.done()
	for r := range reqs {
		if r.ID == "" {
			// A run slot was freed elsewhere: wake this instance's
			// waiters for it.
			s.slotFreed(r.Schedule)
			continue
		}
		s.mu.Lock()
		e, ok := s.entries[r.Schedule]
		s.mu.Unlock()
		if ok {
			s.take(e, r)
		}
	}
}

// takePending takes e's requests that are waiting in the ledger.
func (s *Scheduler) takePending(e *entry) {
	pending, err := s.led.PendingRequests(s.loopCtx, e.name)
	if err != nil {
		s.log.Error("ledger: pending run-now requests", zap.String("schedule", e.name), zap.Error(err))
		return
	}
	for _, r := range pending {
		s.take(e, r)
	}
}

// take runs request r if this instance wins its claim, or watches the
// winner's claim to take the run over if the winner dies: exactly one
// instance of the fleet runs each request at a time, and the request stays
// pending in the ledger until its run is finished.
func (s *Scheduler) take(e *entry, r ledger.Request) {
	at := r.At
	if at.IsZero() {
		at = s.ports.Clock.Now()
	}
	b := begin(s.ports, "run-now "+e.name)
	s.runs.Add(1)
	go func() {
		defer s.runs.Done()
		defer b.done()
		s.claimAndRun(e, at, r.ID, b)
	}()
}

// subscribe starts listening for run-now requests. s.mu is held.
func (s *Scheduler) subscribeLocked() error {
	reqs, err := s.led.Subscribe(s.loopCtx)
	if err != nil {
		return err
	}
	s.loops.Add(1)
	go s.listen(reqs, begin(s.ports, "run-now requests waiting at start"))
	return nil
}
