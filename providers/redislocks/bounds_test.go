package redislocks_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// A fence TTL past any sane bound is cut to locks.MaxTTL rather than
// overflowing into an expiry Redis refuses, which would fail every Acquire.
func TestFenceTTLSaturates(t *testing.T) {
	c := newClient(t)
	prefix := uniquePrefix(t, c)
	l := redislocks.New(c, prefix, redislocks.WithFenceTTL(math.MaxInt64))
	lease := mustAcquire(t, l, "k", locks.Options{TTL: time.Minute})
	defer lease.Release(context.Background())
	pttl, err := c.PTTL(context.Background(), l.LeaseKey("k")+":fence").Result()
	if err != nil {
		t.Fatal(err)
	}
	if pttl <= 0 || pttl > locks.MaxTTL {
		t.Fatalf("fence key PTTL %v, want in (0, %v]", pttl, locks.MaxTTL)
	}
}

// A renewal with a TTL that would overflow is refused before it reaches
// Redis; the key keeps its expiry and stays the holder's.
func TestRenewHugeTTLKeepsTheKey(t *testing.T) {
	c := newClient(t)
	l := redislocks.New(c, uniquePrefix(t, c))
	ctx := context.Background()
	lease := mustAcquire(t, l, "k", locks.Options{TTL: time.Minute})
	defer lease.Release(ctx)
	for _, ttl := range []time.Duration{math.MaxInt64, locks.MaxTTL + 1} {
		ok, err := lease.Renew(ctx, ttl)
		if ok || !errors.Is(err, locks.ErrInvalidTTL) || !strings.Contains(err.Error(), locks.MaxTTL.String()) {
			t.Fatalf("Renew(%v) = %v, %v; want false and ErrInvalidTTL naming %v", ttl, ok, err, locks.MaxTTL)
		}
	}
	pttl, err := c.PTTL(ctx, l.LeaseKey("k")).Result()
	if err != nil || pttl <= 0 || pttl > time.Minute {
		t.Fatalf("after refused renewals PTTL = %v, %v; want the original minute", pttl, err)
	}
	if res, err := l.Acquire(ctx, "k", locks.Options{TTL: time.Minute}); err != nil || res.Acquired {
		t.Fatalf("a second caller took the key: %+v, %v", res, err)
	}
}

// A TTL whose trust window would be gone before the reply arrives is
// refused, naming the TTL, the minimum and the margin.
func TestShortTTLRejected(t *testing.T) {
	c := newClient(t)
	l := redislocks.New(c, uniquePrefix(t, c))
	ctx := context.Background()
	for _, ttl := range []time.Duration{time.Nanosecond, time.Microsecond, redislocks.MinTTL - 1} {
		res, err := l.Acquire(ctx, "k", locks.Options{TTL: ttl})
		if res.Acquired || !errors.Is(err, locks.ErrInvalidTTL) {
			t.Fatalf("Acquire(ttl %v) = %+v, %v; want ErrInvalidTTL", ttl, res, err)
		}
		for _, want := range []string{ttl.String(), redislocks.MinTTL.String(), locks.SafetyMargin(ttl).String()} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		}
	}
	lease := mustAcquire(t, l, "k", locks.Options{TTL: redislocks.MinTTL})
	defer lease.Release(ctx)
	if ok, err := lease.Renew(ctx, time.Microsecond); ok || !errors.Is(err, locks.ErrInvalidTTL) {
		t.Fatalf("Renew(1µs) = %v, %v; want ErrInvalidTTL", ok, err)
	}
}

// Prefix "a" with key "b:c" and prefix "a:b" with key "c" are two locks.
func TestKeysDoNotCollideAcrossPrefixes(t *testing.T) {
	c := newClient(t)
	base := uniquePrefix(t, c)
	ctx := context.Background()
	a := redislocks.New(c, base+":a")
	ab := redislocks.New(c, base+":a:b")
	la := mustAcquire(t, a, "b:c", locks.Options{TTL: time.Minute})
	defer la.Release(ctx)
	lab := mustAcquire(t, ab, "c", locks.Options{TTL: time.Minute})
	defer lab.Release(ctx)
	if a.LeaseKey("b:c") == ab.LeaseKey("c") {
		t.Fatalf("both map to %q", a.LeaseKey("b:c"))
	}
	for _, l := range []*redislocks.Locks{a, ab} {
		infos, err := l.List(ctx, "")
		if err != nil || len(infos) != 1 {
			t.Fatalf("%v lists %+v, %v; want its own lease only", l, infos, err)
		}
	}
}
