package scheduler

import (
	"context"
	"crypto/rand"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
)

// claimLease is a won ledger claim seen as a locks.Lease, so that
// locks.RunWithLease renews it, cancels the run when it cannot be kept, and
// releases it (not done) if the run ends without finishing the tick.
type claimLease struct {
	led   ledger.Ledger
	clock clockwork.Clock
	req   ledger.ClaimRequest
	token uint64

	mu       sync.Mutex
	trustEnd time.Time
}

var _ locks.Lease = (*claimLease)(nil)

func (c *claimLease) Key() string                 { return "ledger claim of " + c.req.Schedule }
func (c *claimLease) FencingToken() uint64        { return c.token }
func (c *claimLease) Metadata() map[string]string { return nil }

func (c *claimLease) ExpiresAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trustEnd
}

func (c *claimLease) Renew(ctx context.Context, ttl time.Duration) (bool, error) {
	r := c.req
	if ttl > 0 {
		r.TTL = ttl
	}
	sentAt := c.clock.Now()
	ok, err := c.led.Renew(ctx, r)
	if ok {
		c.mu.Lock()
		c.trustEnd = locks.TrustWindowEnd(sentAt, r.TTL)
		c.mu.Unlock()
	}
	return ok, err
}

func (c *claimLease) Release(ctx context.Context) error { return c.led.Release(ctx, c.req) }

// heldClaim hands RunWithLease a claim that is already won.
type heldClaim struct{ lease *claimLease }

func (h heldClaim) Acquire(context.Context, string, locks.Options) (locks.Result, error) {
	return locks.Result{Acquired: true, Lease: h.lease}, nil
}

func (h heldClaim) WithLease(ctx context.Context, key string, opts locks.Options, fn func(context.Context, locks.Lease) error) error {
	return locks.RunWithLease(ctx, h.lease.clock, h, key, opts, fn)
}

// claimRequest returns the claim request of one run on this instance: the
// owner is unique to the run, so a retry re-claims as the same owner while
// any other run, here or elsewhere, is someone else.
func (s *Scheduler) claimRequest(e *entry, tick time.Time, request string) ledger.ClaimRequest {
	return ledger.ClaimRequest{Schedule: e.name, Tick: tick, Manual: request != "", Request: request, Owner: s.opts.instance + "/" + rand.Text()[:10],
		Instance: s.opts.instance, TTL: e.o.ttl}
}

// freedChan returns the channel that is closed when a run of name lets go
// of its claim, so that a tick waiting for the slot retries at once rather
// than at the claim's expiry: a run on this instance closes it itself, and
// a run elsewhere through the ledger's push (see listen).
func (s *Scheduler) freedChan(name string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.freed[name]
	if !ok {
		ch = make(chan struct{})
		s.freed[name] = ch
	}
	return ch
}

// slotFreed wakes the waiters of freedChan(name).
func (s *Scheduler) slotFreed(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.freed[name]; ok {
		close(ch)
		delete(s.freed, name)
	}
}
