package redislocks

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/locks"
)

// hashTag is Redis Cluster's rule: the part between the first '{' and the
// next '}', if non-empty, else the whole key.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// Every Redis key of one lock must hash to one slot, whatever the user's key
// or prefix contains, or scripts fail on Cluster with CROSSSLOT.
func FuzzKeysShareHashTag(f *testing.F) {
	for _, s := range []string{"job", "a}b", "{x}", "}{", "tenant:{42}", "", "é", strings.Repeat("k", 1024)} {
		f.Add("beignet:locks", s)
	}
	f.Add("pre{fix", "key")
	f.Add("", "{}")
	f.Fuzz(func(t *testing.T, prefix, key string) {
		if locks.ValidateKey(key) != nil {
			return
		}
		l := New(nil, prefix)
		k := l.keysFor(key)
		tag := hashTag(k.lease)
		if hashTag(k.fence) != tag || hashTag(k.channel) != tag {
			t.Fatalf("prefix %q key %q: lease %q, fence %q and channel %q hash differently", prefix, key, k.lease, k.fence, k.channel)
		}
		if k.lease == k.fence || k.lease == k.channel {
			t.Fatalf("prefix %q key %q: keys collide", prefix, key)
		}
	})
}

// Metadata goes into md:<name> hash fields and must come back unchanged from
// the inspect reply, for any names and values Validate accepts.
func FuzzMetadataRoundTrip(f *testing.F) {
	f.Add("host", "web-1", "md:x", "")
	f.Add("", "", "owner", "token")
	f.Add("a\x00b", "\xff\xfe", "at", "=:{}")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		md := map[string]string{k1: v1, k2: v2}
		if (locks.Options{TTL: time.Second, Metadata: md}).Validate() != nil {
			return
		}
		reply := []any{int64(1500), "owner", "o", "token", "42", "at", "1700000000000000"}
		for k, v := range md {
			reply = append(reply, "md:"+k, v)
		}
		info, err := parseLease("key", time.Unix(0, 0), reply)
		if err != nil {
			t.Fatal(err)
		}
		if info.FencingToken != 42 || len(info.Metadata) != len(md) {
			t.Fatalf("parsed %+v from %v", info, reply)
		}
		for k, v := range md {
			if info.Metadata[k] != v {
				t.Fatalf("metadata %q = %q, want %q", k, info.Metadata[k], v)
			}
		}
	})
}

// No two (prefix, key) pairs may share a Redis key: "a" with "b:c" and "a:b"
// with "c" are different locks.
func FuzzKeysInjective(f *testing.F) {
	f.Add("a", "b:c", "a:b", "c")
	f.Add("a", "b|c", "a|b", "c")
	f.Add("a{", "x", "a(", "x")
	f.Add("a%7B", "x", "a{", "x")
	f.Add("p", "x}:fence", "p", "x")
	f.Add("a#sched:x", "y", "a", "x|y")
	f.Fuzz(func(t *testing.T, p1, k1, p2, k2 string) {
		if locks.ValidateKey(k1) != nil || locks.ValidateKey(k2) != nil {
			return
		}
		if p1 == "" {
			p1 = DefaultPrefix
		}
		if p2 == "" {
			p2 = DefaultPrefix
		}
		if p1 == p2 && k1 == k2 {
			return
		}
		a, b := New(nil, p1).keysFor(k1), New(nil, p2).keysFor(k2)
		for _, x := range []string{a.lease, a.fence, a.channel} {
			for _, y := range []string{b.lease, b.fence, b.channel} {
				if x == y {
					t.Fatalf("(%q, %q) and (%q, %q) share the Redis key %q", p1, k1, p2, k2, x)
				}
			}
			// Nor may a lock's key be a ledger's, whatever the names.
			lg := NewLedger(nil, p2)
			for _, y := range append(lg.ScheduleKeys(k2), lg.fleetKey(k2)) {
				if x == y {
					t.Fatalf("lock (%q, %q) and ledger (%q, %q) share the Redis key %q", p1, k1, p2, k2, x)
				}
			}
		}
	})
}

func TestMillisNeverOverflows(t *testing.T) {
	cases := map[time.Duration]int64{
		0:                    0,
		1:                    1,
		time.Millisecond:     1,
		time.Millisecond + 1: 2,
		locks.MaxTTL:         int64(locks.MaxTTL / time.Millisecond),
		math.MaxInt64:        math.MaxInt64/int64(time.Millisecond) + 1,
	}
	for d, want := range cases {
		if got := millis(d); got != want {
			t.Errorf("millis(%d) = %d, want %d", int64(d), got, want)
		}
	}
}

// The provider and New follow one rule for prefixes: any prefix works, and
// braces in it cannot break the hash tag.
func TestPrefixWithBracesAcceptedEverywhere(t *testing.T) {
	for _, p := range []string{"app}locks", "{tenant}", "}", "a|b", "100%"} {
		o, err := Options{}.resolve(env(map[string]string{EnvPrefix: p}))
		if err != nil || o.Prefix != p {
			t.Fatalf("provider rejects prefix %q: %v", p, err)
		}
		k := New(nil, o.Prefix).keysFor("job")
		tag := hashTag(k.lease)
		if tag == k.lease || strings.ContainsAny(tag, "{}") || hashTag(k.fence) != tag || hashTag(k.channel) != tag {
			t.Errorf("prefix %q: lease %q has hash tag %q", p, k.lease, tag)
		}
	}
}
