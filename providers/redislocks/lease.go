package redislocks

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/beignet-go/beignet/locks"
)

// Lease is one acquisition of a key in Redis. It implements locks.Lease.
type Lease struct {
	l     *Locks
	key   string
	keys  keys
	owner string // 128 random bits: ownership is checked by this, never by key alone
	token uint64
	md    map[string]string
	ttl   time.Duration

	// renewing holds one token while a Renew is in flight. Redis applies
	// renewals in the order they arrive, so only one at a time makes the
	// reply that sets trustEnd the one Redis applied last.
	renewing chan struct{}

	mu       sync.Mutex
	trustEnd time.Time
	lost     Loss
	// released is set when Release is called: from then on the holder
	// trusts nothing, whatever a renewal that was already in flight
	// answers.
	released bool
	reported bool // a loss was reported to NotifyLoss's hooks
}

// Loss says why a lease is no longer held, as far as this holder has seen.
type Loss int

const (
	// NotLost means no renewal or release has found the lease gone.
	NotLost Loss = iota
	// Expired means the lease's key was gone: it expired (or was deleted).
	Expired
	// TakenOver means another holder has the key now.
	TakenOver
)

// String names the loss for logs.
func (s Loss) String() string {
	switch s {
	case Expired:
		return "expired"
	case TakenOver:
		return "taken over"
	default:
		return "not lost"
	}
}

var _ locks.Lease = (*Lease)(nil)

// Key implements locks.Lease.
func (s *Lease) Key() string { return s.key }

// FencingToken implements locks.Lease.
func (s *Lease) FencingToken() uint64 { return s.token }

// Metadata implements locks.Lease.
func (s *Lease) Metadata() map[string]string { return maps.Clone(s.md) }

// ExpiresAt implements locks.Lease.
func (s *Lease) ExpiresAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trustEnd
}

// Lost reports why a Renew or Release found the lease gone.
func (s *Lease) Lost() Loss {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost
}

// noteOwner records what a renewal or release found. released is whether
// the holder had released the lease before this call began: a loss found
// after that is the holder's own doing, not reported to NotifyLoss's hooks.
func (s *Lease) noteOwner(code int64, released bool) {
	s.mu.Lock()
	first := s.lost == NotLost
	switch code {
	case ownerGone:
		s.lost = Expired
	case ownerOther:
		s.lost = TakenOver
	default:
		first = false
	}
	report := first && !released && !s.reported
	if report {
		s.reported = true
	}
	s.mu.Unlock()
	if !report {
		return
	}
	if hooks := s.l.lossHooks.Load(); hooks != nil {
		for _, f := range *hooks {
			f(s.key, s.token)
		}
	}
}

// Renew implements locks.Lease. Concurrent calls on one lease run one after
// the other, so ExpiresAt never passes the expiry Redis last granted.
func (s *Lease) Renew(ctx context.Context, ttl time.Duration) (bool, error) {
	if ttl == 0 {
		ttl = s.ttl
	}
	if err := locks.ValidateTTL(ttl); err != nil {
		return false, err
	}
	if err := checkMinTTL(ttl); err != nil {
		return false, err
	}
	if s.isReleased() {
		// A Release that failed may have left the key in Redis; renewing
		// it would bring back a lease its holder gave up.
		return false, nil
	}
	select {
	case s.renewing <- struct{}{}:
	case <-ctx.Done():
		return false, fmt.Errorf("redislocks: renew %q: %w", s.key, ctx.Err())
	}
	defer func() { <-s.renewing }()
	sentAt := s.l.clock.Now()
	code, err := s.l.batch.run(ctx, renewScript, []string{s.keys.lease}, s.owner, millis(ttl)).Int64()
	if err != nil {
		// Redis may still apply this renewal, setting the expiry to ttl
		// from its arrival: sooner than the current window's end if ttl
		// is shorter than the last one. Trust only the earlier of the two.
		s.mu.Lock()
		if end := locks.TrustWindowEnd(sentAt, ttl); end.Before(s.trustEnd) {
			s.trustEnd = end
		}
		s.mu.Unlock()
		err = fmt.Errorf("redislocks: renew %q: %w", s.key, err)
		if ctx.Err() == nil {
			// A renewal given up by its caller (WithLease's fn returned)
			// says nothing about Redis.
			s.l.renewals.Failed(locks.RenewalEvent{Key: s.key, FencingToken: s.token, TTL: ttl, Err: err, At: s.l.clock.Now()})
		}
		return false, err
	}
	s.l.renewals.Answered(s.l.clock)
	if code != ownerMine {
		s.noteOwner(code, s.isReleased())
		return false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released {
		// Redis applied this renewal before a concurrent Release: the
		// key is gone now, and must not be trusted again.
		return false, nil
	}
	s.trustEnd = locks.TrustWindowEnd(sentAt, ttl)
	return true, nil
}

func (s *Lease) isReleased() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.released
}

// Release implements locks.Lease. Releasing a lease that expired, or that
// someone else now holds, changes nothing in Redis. The holder stops
// trusting the lease before the request is sent, since Redis may hand the
// key to someone else as soon as it arrives.
func (s *Lease) Release(ctx context.Context) error {
	s.mu.Lock()
	wasReleased := s.released
	s.released = true
	if now := s.l.clock.Now(); now.Before(s.trustEnd) {
		s.trustEnd = now
	}
	s.mu.Unlock()
	code, err := s.l.release(ctx, s.keys, s.owner)
	if err != nil {
		return fmt.Errorf("redislocks: release %q: %w", s.key, err)
	}
	s.noteOwner(code, wasReleased)
	return nil
}
