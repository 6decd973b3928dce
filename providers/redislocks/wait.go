package redislocks

import (
	"context"
	"fmt"
	"time"
)

// wait retries the acquisition until it succeeds, the wait runs out (nil
// lease, nil error) or ctx ends (ctx's error).
//
// It registers on the key's release channel, on the Locks's shared
// subscription, before retrying, so a release between the failed try and
// the subscription cannot be missed. Each retry also marks the held lease
// as waited on, so its release publishes; releases nobody waits for
// publish nothing. Pub/sub delivery is not guaranteed, so a timer at the
// holder's remaining TTL is the fallback; nothing polls.
func (a *attempt) wait(ctx context.Context) (*Lease, error) {
	lease, pttl, err := a.try(ctx, "")
	if lease != nil || err != nil {
		return lease, err
	}
	clock := a.l.clock
	deadline := clock.Now().Add(a.opts.Wait)
	wk := a.l.wakeups
	flag, err := wk.flag(ctx)
	if err != nil {
		return nil, a.subscribeErr(ctx, err)
	}
	var wt *watch
	defer func() {
		if wt != nil {
			wk.unwatch(wt)
		}
	}()
	for {
		if wt == nil {
			if wt, err = wk.watch(ctx, a.keys.channel); err != nil {
				return nil, a.subscribeErr(ctx, err)
			}
			// Until the subscription is confirmed a release could be
			// missed, so the retry waits for the confirmation, or for
			// the holder's expiry.
			if ready, _ := wk.state(wt); !ready && !a.sleep(ctx, wt, a.nap(pttl, deadline)) {
				return nil, ctx.Err()
			}
			if _, moved := wk.state(wt); moved {
				// The subscription was refused where the key used to
				// live (a slot migration): retry, then listen anew.
				wk.unwatch(wt)
				wt = nil
			}
		}
		if clock.Now().After(deadline) {
			lease, _, err := a.try(ctx, "")
			return lease, err
		}
		lease, pttl, err = a.try(ctx, flag)
		if lease != nil || err != nil {
			return lease, err
		}
		if !clock.Now().Before(deadline) {
			return nil, nil
		}
		if wt == nil {
			continue // listen where the key lives now before sleeping
		}
		if !a.sleep(ctx, wt, a.nap(pttl, deadline)) {
			return nil, ctx.Err()
		}
		if _, moved := wk.state(wt); moved {
			// The key's slot moved to another master: listen there.
			wk.unwatch(wt)
			wt = nil
		}
	}
}

// nap is how long to wait for a wake-up: until the holder's lease expires
// (pttl), or the wait runs out, whichever is first. PTTL -1 (no expiry)
// cannot happen for our keys; -2 (gone) means the key vanished between the
// checks, so retry at once.
func (a *attempt) nap(pttl time.Duration, deadline time.Time) time.Duration {
	left := max(deadline.Sub(a.l.clock.Now()), 0)
	if pttl < 0 {
		return 0
	}
	return min(pttl, left)
}

// sleep waits for a wake-up on wt or for d to pass; false when ctx ended.
func (a *attempt) sleep(ctx context.Context, wt *watch, d time.Duration) bool {
	t := a.l.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-wt.wake:
	case <-t.Chan():
	case <-ctx.Done():
		return false
	}
	return true
}

func (a *attempt) subscribeErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("redislocks: subscribe for %q: %w", a.key, err)
}
