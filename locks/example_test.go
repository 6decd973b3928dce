package locks_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/locks"
)

func ExampleMemory_Acquire() {
	l := locks.NewMemory()
	ctx := context.Background()

	res, err := l.Acquire(ctx, "tenant:42:render", locks.Options{
		TTL:      30 * time.Second,
		Metadata: map[string]string{"host": "web-1"},
	})
	if err != nil {
		panic(err) // bad input or a backend failure, never "someone holds it"
	}
	if !res.Acquired {
		fmt.Println("someone else is rendering")
		return
	}
	defer res.Lease.Release(ctx)

	// Hand the token to the store you write to, so it can refuse writes
	// from a holder whose lease was since taken over.
	// Tokens start from the clock in µs, so they keep rising across
	// restarts of the process.
	fmt.Println("token > 0:", res.Lease.FencingToken() > 0)

	again, _ := l.Acquire(ctx, "tenant:42:render", locks.Options{TTL: time.Second})
	fmt.Println("second acquire:", again.Acquired)
	// Output:
	// token > 0: true
	// second acquire: false
}

func ExampleMemory_WithLease() {
	l := locks.NewMemory()
	err := l.WithLease(context.Background(), "outbox:drain", locks.Options{TTL: 30 * time.Second},
		func(ctx context.Context, lease locks.Lease) error {
			// ctx is cancelled with cause locks.ErrLeaseLost if the lease
			// cannot be renewed in time: stop writing when it is.
			fmt.Println("draining as", lease.Key())
			return nil
		})
	if errors.Is(err, locks.ErrNotAcquired) {
		fmt.Println("another instance is draining")
	}
	// Output: draining as outbox:drain
}

func ExampleLease_Renew() {
	clock := clockwork.NewFakeClock()
	l := locks.NewMemory(locks.WithClock(clock))
	ctx := context.Background()
	res, _ := l.Acquire(ctx, "job:sync", locks.Options{TTL: time.Second})

	clock.Advance(500 * time.Millisecond)
	ok, _ := res.Lease.Renew(ctx, 0) // extends by the lease's own TTL
	fmt.Println("renewed in time:", ok)

	clock.Advance(2 * time.Second)
	ok, _ = res.Lease.Renew(ctx, 0) // never revives an expired lease
	fmt.Println("renewed after expiry:", ok)
	// Output:
	// renewed in time: true
	// renewed after expiry: false
}

func ExampleOptions_Validate() {
	err := locks.Options{TTL: 0}.Validate()
	fmt.Println(errors.Is(err, locks.ErrInvalidTTL), err)
	// Output: true locks: invalid ttl: ttl 0s must be > 0
}

// List shows an operator every live lease whose key matches a glob.
func ExampleMemory_List() {
	l := locks.NewMemory()
	ctx := context.Background()
	for _, k := range []string{"schedule:daily-report", "schedule:render-pdfs", "tenant:42:render"} {
		_, _ = l.Acquire(ctx, k, locks.Options{TTL: time.Minute, Metadata: map[string]string{"instance": "web-1"}})
	}
	held, err := l.List(ctx, "schedule:*")
	if err != nil {
		panic(err)
	}
	for _, in := range held {
		fmt.Println(in.Key, in.Metadata["instance"])
	}
	// Output:
	// schedule:daily-report web-1
	// schedule:render-pdfs web-1
}
