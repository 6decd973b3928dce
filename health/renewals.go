package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/locks"
)

// RenewalsCheckName is the name of the Renewals check in /readyz's body.
const RenewalsCheckName = "lease-renewals"

// ErrRenewalsFailing is wrapped by the Renewals check's error.
var ErrRenewalsFailing = errors.New("health: lease renewals failing")

// Renewals fails while renewals of the leases n hands out have been failing
// for longer than one TTL of the lease whose renewal failed first, with no
// answer from the backend since. That is longer than any holder can have
// trusted its lease: every lease-guarded run of the instance has stopped.
// clock must be the one n runs on (nil: the real clock). n keeps the check's
// subscription for its lifetime.
func Renewals(n locks.RenewalNotifier, clock clockwork.Clock) Check {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	s := &streak{clock: clock}
	n.NotifyRenewal(s.note)
	return Check{Name: RenewalsCheckName, Func: s.check}
}

// streak is the current run of failed renewals: from the first failure
// after the backend last answered, until it answers again.
type streak struct {
	clock clockwork.Clock

	mu    sync.Mutex
	since time.Time     // the first failure's time; zero when none
	ttl   time.Duration // the TTL its renewal asked for
	count int
	last  error
}

func (s *streak) note(ev locks.RenewalEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ev.Err == nil {
		s.since, s.ttl, s.count, s.last = time.Time{}, 0, 0, nil
		return
	}
	if s.since.IsZero() {
		s.since, s.ttl = ev.At, ev.TTL
	}
	s.count++
	s.last = ev.Err
}

func (s *streak) check(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.since.IsZero() {
		return nil
	}
	failingFor := s.clock.Now().Sub(s.since)
	if failingFor <= s.ttl {
		return nil
	}
	return fmt.Errorf("%w: %d failures in a row for %v, longer than the lease TTL %v; last: %w",
		ErrRenewalsFailing, s.count, failingFor.Round(time.Millisecond), s.ttl, s.last)
}

// renewalNotifier finds the RenewalNotifier under l's decorators (such as
// metrics.Locks), which expose the adapter they wrap with Unwrap.
func renewalNotifier(l locks.Locks) (locks.RenewalNotifier, bool) {
	for l != nil {
		if n, ok := l.(locks.RenewalNotifier); ok {
			return n, true
		}
		u, ok := l.(interface{ Unwrap() locks.Locks })
		if !ok {
			return nil, false
		}
		l = u.Unwrap()
	}
	return nil, false
}
