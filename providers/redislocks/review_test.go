package redislocks_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// After Release returns the holder must not be told it may still trust the
// lease, even when a Renew of the same lease ran at the same time: Redis may
// apply the renewal before the release and answer it "ok" after the key was
// already given up, when another instance can hold it.
func TestReleaseEndsTrustEvenWithAConcurrentRenew(t *testing.T) {
	c := newClient(t)
	l := redislocks.New(c, uniquePrefix(t, c))
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		lease := mustAcquire(t, l, "k", locks.Options{TTL: time.Minute})
		var wg sync.WaitGroup
		wg.Add(2)
		var renewed bool
		var renewErr error
		go func() { defer wg.Done(); renewed, renewErr = lease.Renew(ctx, 0) }()
		go func() {
			defer wg.Done()
			if err := lease.Release(ctx); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		if renewErr != nil {
			t.Fatal(renewErr)
		}
		if now := time.Now(); now.Before(lease.ExpiresAt()) {
			t.Fatalf("round %d: released lease (Renew said %v) still trusted until %v", i, renewed, lease.ExpiresAt())
		}
		if ok, err := lease.Renew(ctx, 0); ok || err != nil {
			t.Fatalf("round %d: Renew after Release = %v, %v; want false, nil", i, ok, err)
		}
	}
}

// Keys and prefixes made of the characters the key layout gives meaning to,
// unicode, and the longest key accepted, all round-trip through every call.
func TestAwkwardKeysRoundTrip(t *testing.T) {
	c := newClient(t)
	base := uniquePrefix(t, c)
	keys := []string{"{", "}", "|", "#", "%", "%7B", "}{", "a}:fence", "a}:released", "ключ|🔒", "x{y}z", strings.Repeat("k", locks.MaxKeyBytes)}
	ctx := context.Background()
	for _, p := range []string{base, base + "{|#%}"} {
		l := redislocks.New(c, p)
		for _, k := range keys {
			lease := mustAcquire(t, l, k, locks.Options{TTL: time.Minute, Metadata: map[string]string{"owner": k}})
			info, ok, err := l.Inspect(ctx, k)
			if err != nil || !ok || info.Key != k || info.FencingToken != lease.FencingToken() || info.Metadata["owner"] != k {
				t.Fatalf("prefix %q: Inspect(%.20q) = %+v, %v, %v", p, k, info, ok, err)
			}
			if ok, err := lease.Renew(ctx, 0); !ok || err != nil {
				t.Fatalf("prefix %q: Renew(%.20q) = %v, %v", p, k, ok, err)
			}
		}
		list, err := l.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(keys) {
			t.Fatalf("prefix %q: List found %d leases, want %d", p, len(list), len(keys))
		}
		for _, info := range list {
			res, err := l.Acquire(ctx, info.Key, locks.Options{TTL: time.Minute})
			if err != nil || res.Acquired {
				t.Fatalf("prefix %q: key %.20q from List is not the held one: %v, %v", p, info.Key, res, err)
			}
		}
	}
}
