package redislocks

import (
	"context"
	"fmt"
)

// wait retries the acquisition until it succeeds, the wait runs out (nil
// lease, nil error) or ctx ends (ctx's error).
//
// It subscribes to the key's release channel before retrying, so a release
// between the failed try and the subscription cannot be missed. Pub/sub
// delivery is not guaranteed, so a timer at the holder's remaining TTL is
// the fallback; nothing polls.
func (a *attempt) wait(ctx context.Context) (*Lease, error) {
	lease, _, err := a.try(ctx)
	if lease != nil || err != nil {
		return lease, err
	}
	clock := a.l.clock
	deadline := clock.Now().Add(a.opts.Wait)

	sub := a.l.client.Subscribe(ctx, a.keys.channel)
	defer sub.Close()
	// Receive blocks until Redis confirms the subscription; only from then
	// on is a release guaranteed to reach us.
	if _, err := sub.Receive(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("redislocks: subscribe for %q: %w", a.key, err)
	}
	released := sub.Channel()

	for {
		lease, pttl, err := a.try(ctx)
		if lease != nil || err != nil {
			return lease, err
		}
		left := deadline.Sub(clock.Now())
		if left <= 0 {
			return nil, nil
		}
		// PTTL -1 (no expiry) cannot happen for our keys; -2 (gone) means
		// it vanished between the checks: retry at once.
		next := left
		if pttl >= 0 && pttl < next {
			next = pttl
		}
		t := clock.NewTimer(max(next, 0))
		select {
		case <-released:
		case <-t.Chan():
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		t.Stop()
	}
}
