// Package redislocks is the Redis adapter of the locks port, for fleets of
// app instances that share leases through one Redis (standalone, Sentinel or
// Cluster, through redis.UniversalClient).
//
// Each operation is one Lua script and one round trip. All keys of one lock
// share a hash tag, {prefix|key}, so every script touches a single slot.
// Waiters are woken by a PUBLISH from the release, with a timer at the
// holder's remaining TTL as the fallback, so a hand-off takes one round trip
// rather than a poll interval.
package redislocks

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net"
	"strings"
	"sync"
	"sync/atomic"
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

// MinTTL is the shortest lease TTL (and renewal TTL) accepted. A holder
// stops trusting its lease a safety margin (at least
// locks.MinSafetyMargin) before Redis expires it; a TTL under two margins
// would leave a window thinner than the round trip the margin exists to
// cover, and the lease would often be over before Acquire returned.
const MinTTL = 2 * locks.MinSafetyMargin

// Locks hands out leases stored in Redis. It implements locks.Locks and
// locks.Inspector, and is safe for concurrent use.
type Locks struct {
	client   redis.UniversalClient
	prefix   string
	open     string // "{" + the escaped prefix + "|": how every key name starts
	clock    clockwork.Clock
	fenceTTL time.Duration
	batch    *batcher
	wakeups  *wakeups

	hooksMu   sync.Mutex
	lossHooks atomic.Pointer[[]func(key string, token uint64)] // see NotifyLoss; read without the lock
	renewals  locks.RenewalHooks                               // see NotifyRenewal
}

var (
	_ locks.LossNotifier    = (*Locks)(nil)
	_ locks.RenewalNotifier = (*Locks)(nil)
)

// NotifyRenewal implements locks.RenewalNotifier: f hears of each Renew
// that Redis did not answer (unreachable, timed out, an error reply), and
// of the first answer to anything after that.
func (l *Locks) NotifyRenewal(f func(locks.RenewalEvent)) { l.renewals.Add(f) }

// NotifyLoss implements locks.LossNotifier: f hears of each lease whose
// Renew or Release found it expired or taken over (see Lease.Lost).
func (l *Locks) NotifyLoss(f func(key string, fencingToken uint64)) {
	l.hooksMu.Lock()
	defer l.hooksMu.Unlock()
	var hooks []func(string, uint64)
	if old := l.lossHooks.Load(); old != nil {
		hooks = append(hooks, *old...)
	}
	hooks = append(hooks, f)
	l.lossHooks.Store(&hooks)
}

// Option configures New.
type Option func(*Locks)

// WithClock sets the local clock that trust windows are measured on
// (default: the real clock). Expiry itself is always Redis's.
func WithClock(c clockwork.Clock) Option { return func(l *Locks) { l.clock = c } }

// WithFenceTTL sets how long an idle key's last fencing token is kept
// (default DefaultFenceTTL; 0 or less also means the default). A value over
// locks.MaxTTL is cut to locks.MaxTTL, so that Redis's expiry arithmetic
// cannot overflow.
func WithFenceTTL(d time.Duration) Option { return func(l *Locks) { l.fenceTTL = d } }

// New returns leases on client under prefix (DefaultPrefix if empty). The
// client stays the caller's to close.
//
// Any prefix works. In key names, the characters that give them structure
// ("{", "}", "|", "#" and "%") are percent-escaped within the prefix (see
// LeaseKey), so no two (prefix, key) pairs share a Redis key and every
// lock keeps one Cluster hash tag.
func New(client redis.UniversalClient, prefix string, opts ...Option) *Locks {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	l := &Locks{client: client, prefix: prefix, open: "{" + prefixEscaper.Replace(prefix) + "|", clock: clockwork.NewRealClock(), fenceTTL: DefaultFenceTTL,
		batch: &batcher{client: client}, wakeups: newWakeups(client)}
	for _, o := range opts {
		o(l)
	}
	if l.fenceTTL <= 0 {
		l.fenceTTL = DefaultFenceTTL
	}
	l.fenceTTL = min(l.fenceTTL, locks.MaxTTL)
	return l
}

// prefixEscaper escapes the prefix's share of a key name. "{" and "}" would
// move or empty the hash tag; "|" ends the prefix of a lease's keys and "#"
// that of the ledger's, so neither may occur inside it; "%" is the escape
// itself, so the escaping is reversible and two prefixes never meet.
var prefixEscaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D", "|", "%7C", "#", "%23")

var (
	_ locks.Locks        = (*Locks)(nil)
	_ locks.Inspector    = (*Locks)(nil)
	_ locks.TTLValidator = (*Locks)(nil)
)

// String names the backend in startup logs.
func (l *Locks) String() string { return fmt.Sprintf("redis (prefix %q)", l.prefix) }

// keys names the Redis keys of one lock. They share the hash tag
// {prefix|key}: Redis hashes the first {...} of a key name, which is the
// same for all of them whatever key contains.
//
// The encoding is injective. The escaped prefix holds no "|", so the first
// "|" ends it, and the rest is the key verbatim: "a" with "b:c" and "a:b"
// with "c" name different locks. The lease key ends in "}", the others in
// ":fence" and ":released", so no kind of key can stand for another.
type keys struct {
	lease, fence, channel string
}

func (l *Locks) keysFor(key string) keys {
	base := l.open + key + "}"
	return keys{lease: base, fence: base + ":fence", channel: base + ":released"}
}

// LeaseKey is the Redis key that holds key's lease, for operators
// (HGETALL shows owner, token, metadata and acquired-at µs). It is
// "{" + prefix + "|" + key + "}", with "%", "{", "}", "|" and "#" in the
// prefix written as %25, %7B, %7D, %7C and %23.
func (l *Locks) LeaseKey(key string) string { return l.keysFor(key).lease }

// Acquire implements locks.Locks.
func (l *Locks) Acquire(ctx context.Context, key string, opts locks.Options) (locks.Result, error) {
	if err := locks.Validate(key, opts); err != nil {
		return locks.Result{}, err
	}
	if err := checkMinTTL(opts.TTL); err != nil {
		return locks.Result{}, fmt.Errorf("key %q: %w", key, err)
	}
	a := attempt{l: l, key: key, keys: l.keysFor(key), opts: opts, owner: rand.Text()}
	a.args = make([]any, 0, 5+2*len(opts.Metadata))
	a.args = append(a.args, a.owner, millis(opts.TTL), millis(l.fenceTTL), int64(0), "")
	for k, v := range opts.Metadata {
		a.args = append(a.args, k, v)
	}
	if opts.Wait == 0 {
		lease, _, err := a.try(ctx, "")
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
// holder's remaining TTL. A non-empty waitFlag marks a held lease as waited
// on (see acquireScript).
func (a *attempt) try(ctx context.Context, waitFlag string) (*Lease, time.Duration, error) {
	sentAt := a.l.clock.Now()
	a.args[3], a.args[4] = sentAt.UnixMicro(), waitFlag
	op := a.l.batch.start(ctx, acquireScript, []string{a.keys.lease, a.keys.fence}, a.args...)
	res, err := op.wait(ctx).Int64Slice()
	if err != nil {
		if inFlight(ctx, err) {
			// Given up on while the request was in flight: Redis may
			// still grant it, and nobody would release that lease for a
			// whole TTL. The owner id is ours, so give it back, once
			// the acquire has been answered.
			a.abandonAfter(ctx, op)
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = errors.Join(ctx.Err(), err)
		}
		return nil, 0, fmt.Errorf("redislocks: acquire %q: %w", a.key, err)
	}
	if len(res) != 2 {
		return nil, 0, fmt.Errorf("redislocks: acquire %q: unexpected reply %v", a.key, res)
	}
	a.l.renewals.Answered(a.l.clock)
	if res[0] == 0 {
		return nil, time.Duration(res[1]) * time.Millisecond, nil
	}
	trustEnd := locks.TrustWindowEnd(sentAt, a.opts.TTL)
	if now := a.l.clock.Now(); !now.Before(trustEnd) {
		// The reply came so late that the lease may already be someone
		// else's by the time the caller could act on it.
		a.abandon(ctx)
		return nil, 0, fmt.Errorf("redislocks: acquire %q: %w: the reply took %v, past the trust window of %v (ttl %v minus a safety margin of %v)",
			a.key, locks.ErrLeaseLost, now.Sub(sentAt), trustEnd.Sub(sentAt), a.opts.TTL, locks.SafetyMargin(a.opts.TTL))
	}
	return &Lease{
		l:        a.l,
		key:      a.key,
		keys:     a.keys,
		owner:    a.owner,
		token:    uint64(res[1]),
		md:       maps.Clone(a.opts.Metadata),
		ttl:      a.opts.TTL,
		trustEnd: trustEnd,
		renewing: make(chan struct{}, 1),
	}, 0, nil
}

// inFlight reports whether a request that failed with err may still have
// reached Redis: the caller's ctx ended, or the reply timed out. A refused
// connection or an error reply means it was never applied.
func inFlight(ctx context.Context, err error) bool {
	var ne net.Error
	return ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout())
}

// abandonTimeout bounds the best-effort release of a lease the caller will
// never see; past the lease's TTL it would be pointless anyway.
const abandonTimeout = time.Second

// abandon releases, best effort, a lease this attempt may hold but will not
// hand back. It runs even when ctx is done, since a cancelled caller is the
// usual reason.
func (a *attempt) abandon(ctx context.Context) {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(a.opts.TTL, abandonTimeout))
	defer cancel()
	_, _ = a.l.release(c, a.keys, a.owner)
}

// abandonAfter is abandon for an acquire whose caller stopped waiting
// while it was in flight. The release goes out only once the acquire has
// been answered (or abandonTimeout has passed): with two pipelines in
// flight on two connections, a release sent at once could reach Redis
// before the acquire it undoes, find nothing, and leave the acquire's
// lease to live out its TTL. An acquire never sent, or answered "held",
// needs no release at all.
func (a *attempt) abandonAfter(ctx context.Context, op *scriptOp) {
	// A bound on a network wait, in real time like abandon's own.
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(a.opts.TTL, abandonTimeout))
	defer cancel()
	select {
	case <-op.done:
		if !op.sent {
			return
		}
		if res, err := op.cmd.Int64Slice(); err == nil && len(res) == 2 && res[0] == 0 {
			return
		}
	case <-c.Done():
	}
	a.abandon(ctx)
}

// release runs the release script for owner, answering ownerMine, ownerGone
// or ownerOther.
func (l *Locks) release(ctx context.Context, k keys, owner string) (int64, error) {
	code, err := l.batch.run(ctx, releaseScript, []string{k.lease, k.channel}, owner).Int64()
	if err == nil {
		l.renewals.Answered(l.clock)
	}
	return code, err
}

// ValidateTTL implements locks.TTLValidator: a TTL must pass
// locks.ValidateTTL and be at least MinTTL.
func (l *Locks) ValidateTTL(ttl time.Duration) error {
	if err := locks.ValidateTTL(ttl); err != nil {
		return err
	}
	return checkMinTTL(ttl)
}

// checkMinTTL rejects a TTL whose trust window would be too thin to use.
func checkMinTTL(ttl time.Duration) error {
	if ttl < MinTTL {
		return fmt.Errorf("%w: ttl %v is under redislocks.MinTTL %v: the holder stops trusting a lease a safety margin of %v before Redis expires it",
			locks.ErrInvalidTTL, ttl, MinTTL, locks.SafetyMargin(ttl))
	}
	return nil
}

// millis rounds d up to whole milliseconds, Redis's unit, so that a TTL
// under 1ms does not become PEXPIRE 0 (an immediate delete). It divides
// before rounding, so no d can overflow into a negative (deleting) expiry.
func millis(d time.Duration) int64 {
	ms := int64(d / time.Millisecond)
	if d%time.Millisecond > 0 {
		ms++
	}
	return ms
}
