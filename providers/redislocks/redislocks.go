// Package redislocks is the Redis adapter of the locks port, for fleets of
// app instances that share leases through one Redis (standalone, Sentinel or
// Cluster, through redis.UniversalClient).
//
// Each operation is one Lua script and one round trip. All keys of one lock
// share a hash tag, {prefix:key}, so every script touches a single slot.
// Waiters are woken by a PUBLISH from the release, with a timer at the
// holder's remaining TTL as the fallback, so a hand-off takes one round trip
// rather than a poll interval.
package redislocks

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/locks"
)

// DefaultPrefix starts every key when no prefix is configured.
const DefaultPrefix = "beignet:locks"

// DefaultFenceTTL is how long a key's last fencing token is remembered after
// the key was last acquired. Tokens stay monotonic after it expires, because
// they are at least Redis's clock in microseconds; it only bounds per-key
// state.
const DefaultFenceTTL = 7 * 24 * time.Hour

// Locks hands out leases stored in Redis. It implements locks.Locks and
// locks.Inspector, and is safe for concurrent use.
type Locks struct {
	client   redis.UniversalClient
	prefix   string
	clock    clockwork.Clock
	fenceTTL time.Duration
}

// Option configures New.
type Option func(*Locks)

// WithClock sets the local clock that trust windows are measured on
// (default: the real clock). Expiry itself is always Redis's.
func WithClock(c clockwork.Clock) Option { return func(l *Locks) { l.clock = c } }

// WithFenceTTL sets how long an idle key's last fencing token is kept
// (default DefaultFenceTTL).
func WithFenceTTL(d time.Duration) Option { return func(l *Locks) { l.fenceTTL = d } }

// New returns leases on client under prefix (DefaultPrefix if empty). The
// client stays the caller's to close.
//
// Braces in prefix are replaced by parentheses: a prefix starting with "}"
// would make every key's hash tag empty, and Redis Cluster would then put a
// lock's keys on different slots.
func New(client redis.UniversalClient, prefix string, opts ...Option) *Locks {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	prefix = strings.NewReplacer("{", "(", "}", ")").Replace(prefix)
	l := &Locks{client: client, prefix: prefix, clock: clockwork.NewRealClock(), fenceTTL: DefaultFenceTTL}
	for _, o := range opts {
		o(l)
	}
	if l.fenceTTL <= 0 {
		l.fenceTTL = DefaultFenceTTL
	}
	return l
}

var (
	_ locks.Locks     = (*Locks)(nil)
	_ locks.Inspector = (*Locks)(nil)
)

// String names the backend in startup logs.
func (l *Locks) String() string { return fmt.Sprintf("redis (prefix %q)", l.prefix) }

// keys names the Redis keys of one lock. They share the hash tag
// {prefix:key}: Redis hashes the first {...} of a key name, which is the
// same for all of them whatever key contains.
type keys struct {
	lease, fence, channel string
}

func (l *Locks) keysFor(key string) keys {
	base := "{" + l.prefix + ":" + key + "}"
	return keys{lease: base, fence: base + ":fence", channel: base + ":released"}
}

// LeaseKey is the Redis key that holds key's lease, for operators
// (HGETALL shows owner, token, metadata and acquired-at µs).
func (l *Locks) LeaseKey(key string) string { return l.keysFor(key).lease }

// Acquire implements locks.Locks.
func (l *Locks) Acquire(ctx context.Context, key string, opts locks.Options) (locks.Result, error) {
	if err := locks.Validate(key, opts); err != nil {
		return locks.Result{}, err
	}
	a := attempt{l: l, key: key, keys: l.keysFor(key), opts: opts, owner: rand.Text()}
	a.args = make([]any, 0, 3+2*len(opts.Metadata))
	a.args = append(a.args, a.owner, millis(opts.TTL), millis(l.fenceTTL))
	for k, v := range opts.Metadata {
		a.args = append(a.args, k, v)
	}
	if opts.Wait == 0 {
		lease, _, err := a.try(ctx)
		return result(lease), err
	}
	lease, err := a.wait(ctx)
	return result(lease), err
}

func result(l *Lease) locks.Result {
	if l == nil {
		return locks.Result{}
	}
	return locks.Result{Acquired: true, Lease: l}
}

// WithLease implements locks.Locks.
func (l *Locks) WithLease(ctx context.Context, key string, opts locks.Options, fn func(ctx context.Context, lease locks.Lease) error) error {
	return locks.RunWithLease(ctx, l.clock, l, key, opts, fn)
}

// attempt is one Acquire call.
type attempt struct {
	l     *Locks
	key   string
	keys  keys
	opts  locks.Options
	owner string
	args  []any // the acquire script's ARGV
}

// try runs the acquire script once. It returns the lease, or nil and the
// holder's remaining TTL.
func (a *attempt) try(ctx context.Context) (*Lease, time.Duration, error) {
	sentAt := a.l.clock.Now()
	res, err := acquireScript.Run(ctx, a.l.client, []string{a.keys.lease, a.keys.fence}, a.args...).Int64Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("redislocks: acquire %q: %w", a.key, err)
	}
	if len(res) != 2 {
		return nil, 0, fmt.Errorf("redislocks: acquire %q: unexpected reply %v", a.key, res)
	}
	if res[0] == 0 {
		return nil, time.Duration(res[1]) * time.Millisecond, nil
	}
	return &Lease{
		l:        a.l,
		key:      a.key,
		keys:     a.keys,
		owner:    a.owner,
		token:    uint64(res[1]),
		md:       maps.Clone(a.opts.Metadata),
		ttl:      a.opts.TTL,
		trustEnd: locks.TrustWindowEnd(sentAt, a.opts.TTL),
	}, 0, nil
}

// millis rounds d up to whole milliseconds, Redis's unit, so that a TTL
// under 1ms does not become PEXPIRE 0 (an immediate delete).
func millis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
