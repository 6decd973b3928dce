package locks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// RunWithLease implements Locks.WithLease on top of l.Acquire, so that every
// adapter shares one set of renewal and loss semantics. Adapters call it from
// their WithLease; applications call l.WithLease.
//
// While fn runs, the lease is renewed at about TTL/3. A failed renewal is
// retried; if none succeeds before the trust window ends (Lease.ExpiresAt),
// fn's context is cancelled with cause ErrLeaseLost, which is before the
// backend could give the key to anyone else. fn never starts once the
// window has closed (a late acquire reply): RunWithLease then releases the
// key and returns ErrLeaseLost. However fn ends (return, panic or
// runtime.Goexit), renewals stop and the key is released.
func RunWithLease(ctx context.Context, clock clockwork.Clock, l Locks, key string, opts Options, fn func(ctx context.Context, lease Lease) error) (err error) {
	if fn == nil {
		// Checked before acquiring: calling a nil fn would panic with
		// the key held.
		return fmt.Errorf("%w: WithLease %q: fn is nil", ErrInvalid, key)
	}
	res, err := l.Acquire(ctx, key, opts)
	if err != nil {
		return err
	}
	if !res.Acquired {
		return fmt.Errorf("%w: %q is held by another holder", ErrNotAcquired, key)
	}
	lease := res.Lease
	releaseCtx := func() (context.Context, context.CancelFunc) {
		// The caller's ctx may already be done (that is often why fn
		// returned), but the key should still be handed back promptly
		// rather than left to expire. Beyond the TTL there is no point.
		return context.WithTimeout(context.WithoutCancel(ctx), opts.TTL)
	}
	// The reply may have come late (a slow network, a paused process):
	// another holder may already have the key.
	if now, end := clock.Now(), lease.ExpiresAt(); !now.Before(end) {
		relCtx, relCancel := releaseCtx()
		defer relCancel()
		_ = lease.Release(relCtx)
		return fmt.Errorf("%w: %q: the trust window ended %v before fn could start", ErrLeaseLost, key, now.Sub(end))
	}

	fnCtx, cancel := context.WithCancelCause(ctx)
	w := startWatchdog(clock, lease, opts.TTL, cancel)

	finish := func() error {
		w.stop()
		lost := errors.Is(context.Cause(fnCtx), ErrLeaseLost)
		cancel(nil)
		relCtx, relCancel := releaseCtx()
		defer relCancel()
		relErr := lease.Release(relCtx)
		var errs []error
		if lost {
			errs = append(errs, fmt.Errorf("%w: %q", ErrLeaseLost, key))
		}
		if relErr != nil {
			errs = append(errs, fmt.Errorf("locks: release %q: %w", key, relErr))
		}
		return errors.Join(errs...)
	}

	// A deferred call is the one thing that runs on every way out of fn:
	// return, panic, and runtime.Goexit (t.FailNow, say), where recover
	// returns nil. A panic keeps unwinding after it.
	returned := false
	defer func() {
		if !returned {
			_ = finish()
		}
	}()
	fnErr := fn(fnCtx, lease)
	returned = true
	leaseErr := finish()
	switch {
	case leaseErr == nil:
		return fnErr
	case fnErr == nil:
		return leaseErr
	default:
		return errors.Join(fnErr, leaseErr)
	}
}

// watchdog renews a lease in the background and cancels the holder's
// context once ownership can no longer be trusted.
type watchdog struct {
	done   chan struct{}
	quit   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type renewal struct {
	ok  bool
	err error
}

func startWatchdog(clock clockwork.Clock, lease Lease, ttl time.Duration, lose context.CancelCauseFunc) *watchdog {
	renewCtx, cancel := context.WithCancel(context.Background())
	w := &watchdog{done: make(chan struct{}), quit: make(chan struct{}), cancel: cancel}
	every := max(ttl/3, time.Millisecond)
	retry := max(every/3, time.Millisecond)
	results := make(chan renewal, 1)
	// Renewals are timed from the trust window, which starts when the
	// acquire (or last renewal) was sent, not when its answer arrived: on a
	// slow network a renewal scheduled from the answer could land after
	// the window had already closed.
	window := ttl - SafetyMargin(ttl)
	dueAfter := func(trustEnd time.Time) time.Time { return trustEnd.Add(every - window) }
	next := dueAfter(lease.ExpiresAt())
	go func() {
		defer close(w.done)
		defer w.wg.Wait() // an in-flight renewal must finish before we report done
		defer cancel()
		var sentAt time.Time
		inflight := false
		for {
			select {
			case <-w.quit: // fn has returned: start no renewal
				return
			default:
			}
			now := clock.Now()
			deadline := lease.ExpiresAt()
			if !now.Before(deadline) {
				lose(ErrLeaseLost)
				return
			}
			if !inflight && !now.Before(next) {
				inflight = true
				sentAt = now
				w.wg.Add(1)
				go func() {
					defer w.wg.Done()
					ok, err := lease.Renew(renewCtx, 0)
					results <- renewal{ok, err}
				}()
			}
			wait := deadline.Sub(now)
			if !inflight {
				wait = min(wait, next.Sub(now))
			}
			t := clock.NewTimer(wait)
			select {
			case <-w.quit:
				t.Stop()
				return
			case <-t.Chan():
			case r := <-results:
				t.Stop()
				inflight = false
				switch {
				case r.err != nil:
					next = sentAt.Add(retry)
				case !r.ok:
					lose(ErrLeaseLost)
					return
				default:
					next = dueAfter(lease.ExpiresAt())
				}
			}
		}
	}()
	return w
}

func (w *watchdog) stop() {
	close(w.quit)
	w.cancel()
	<-w.done
}
