package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"
)

// Drain defaults.
const (
	DefaultInterval    = time.Second
	DefaultBatchSize   = 100
	DefaultMaxAttempts = 10
	DefaultBackoff     = time.Second
	DefaultMaxBackoff  = 10 * time.Minute
	DefaultLeaseTTL    = scheduler.DefaultLeaseTTL // a drain pass is a scheduler task
	DefaultRetention   = 7 * 24 * time.Hour

	// cleanupEvery is how often a drain deletes published messages past
	// retention. Retention is counted in days, so an hour's lag is
	// immaterial, while deleting on every pass (each second by default)
	// would scan the table for nothing.
	cleanupEvery = time.Hour
)

type drainOptions struct {
	interval    time.Duration
	batch       int
	maxAttempts int
	backoff     time.Duration
	maxBackoff  time.Duration
	ttl         time.Duration
	retention   time.Duration

	tracerProvider trace.TracerProvider
	hooks          []PublishHook
}

// Option configures a drain.
type Option func(*drainOptions)

// Interval sets how often the drain looks for messages when nothing wakes
// it (default 1 s).
func Interval(d time.Duration) Option { return func(o *drainOptions) { o.interval = d } }

// BatchSize sets how many messages one claim returns (default 100).
func BatchSize(n int) Option { return func(o *drainOptions) { o.batch = n } }

// MaxAttempts sets how many failed publishes dead-letter a message
// (default 10).
func MaxAttempts(n int) Option { return func(o *drainOptions) { o.maxAttempts = n } }

// Backoff sets the first retry delay and its cap; the delay doubles with
// each failed attempt (default 1 s, capped at 10 min).
func Backoff(first, max time.Duration) Option {
	return func(o *drainOptions) { o.backoff, o.maxBackoff = first, max }
}

// LeaseTTL sets the TTL of the drain's lease (default 30 s).
func LeaseTTL(d time.Duration) Option { return func(o *drainOptions) { o.ttl = d } }

// Retention sets how long published messages are kept (default 7 days;
// 0 keeps them forever).
func Retention(d time.Duration) Option { return func(o *drainOptions) { o.retention = d } }

// Drainer publishes a store's messages. One pass runs under the lease on
// "outbox:<name>" and carries its fencing token into every store call.
type Drainer struct {
	name   string
	store  Store
	pub    Publisher
	clock  clockwork.Clock
	log    *zap.Logger
	o      drainOptions
	tracer trace.Tracer

	lastCleanup time.Time // only touched by passes, which never overlap
}

// NewDrainer returns a drainer. Most apps register one with Drain instead.
func NewDrainer(name string, store Store, pub Publisher, clock clockwork.Clock, log *zap.Logger, opts ...Option) (*Drainer, error) {
	o := drainOptions{
		interval: DefaultInterval, batch: DefaultBatchSize, maxAttempts: DefaultMaxAttempts,
		backoff: DefaultBackoff, maxBackoff: DefaultMaxBackoff, ttl: DefaultLeaseTTL, retention: DefaultRetention,
	}
	for _, f := range opts {
		f(&o)
	}
	switch {
	case name == "":
		return nil, fmt.Errorf("%w: drain with an empty name", ErrConfig)
	case store == nil || pub == nil:
		return nil, fmt.Errorf("%w: drain %q needs a store and a publisher", ErrConfig, name)
	case o.interval <= 0 || o.batch <= 0 || o.maxAttempts <= 0 || o.backoff <= 0 || o.maxBackoff < o.backoff || o.ttl <= 0 || o.retention < 0:
		return nil, fmt.Errorf("%w: drain %q: interval %v, batch %d, max attempts %d, backoff %v..%v, TTL %v, retention %v",
			ErrConfig, name, o.interval, o.batch, o.maxAttempts, o.backoff, o.maxBackoff, o.ttl, o.retention)
	}
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Drainer{name: name, store: store, pub: pub, clock: clock, log: log.Named("outbox").With(zap.String("drain", name)), o: o,
		tracer: newTracer(o.tracerProvider)}, nil
}

// LeaseKey is the key of the drain's lease.
func (d *Drainer) LeaseKey() string { return "outbox:" + d.name }

// Task is the drain as scheduler work: a pass every Interval, or when wake
// delivers.
func (d *Drainer) Task(wake <-chan struct{}) scheduler.Task {
	return scheduler.Task{Name: "outbox:" + d.name, Key: d.LeaseKey(), Interval: d.o.interval, TTL: d.o.ttl, Wake: wake, Run: d.Pass}
}

// Pass publishes everything available, batch by batch, while the lease is
// trusted. It stops without publishing further as soon as the lease's
// trust window has passed or the store refuses its token.
func (d *Drainer) Pass(ctx context.Context, lease locks.Lease) error {
	token := lease.FencingToken()
	for {
		if err := d.trusted(ctx, lease); err != nil {
			return err
		}
		msgs, err := d.store.Claim(ctx, d.name, token, d.clock.Now(), d.o.batch)
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			return d.cleanup(ctx)
		}
		if err := d.publish(ctx, lease, msgs); err != nil {
			return err
		}
		if len(msgs) < d.o.batch {
			return d.cleanup(ctx)
		}
	}
}

// trusted reports an error once the lease can no longer be relied on.
func (d *Drainer) trusted(ctx context.Context, lease locks.Lease) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if !d.clock.Now().Before(lease.ExpiresAt()) {
		return fmt.Errorf("outbox: drain %q: %w: trust window ended", d.name, locks.ErrLeaseLost)
	}
	return nil
}

func (d *Drainer) publish(ctx context.Context, lease locks.Lease, msgs []Message) error {
	token := lease.FencingToken()
	var done []int64
	blocked := map[string]bool{} // keys whose earlier message failed in this batch
	var stop error
	for _, m := range msgs {
		if stop = d.trusted(ctx, lease); stop != nil {
			break
		}
		if m.Key != "" && blocked[m.Key] {
			continue
		}
		pctx, sent, span := d.startPublish(ctx, m)
		err := d.pub.Publish(pctx, sent)
		if err == nil {
			endPublish(span, nil, OutcomePublished)
			d.notify(m, OutcomePublished)
			done = append(done, m.ID)
			continue
		}
		if m.Key != "" {
			blocked[m.Key] = true
		}
		outcome, ferr := d.fail(ctx, token, m, err)
		endPublish(span, err, outcome)
		d.notify(m, outcome)
		if ferr != nil {
			stop = ferr
			break
		}
	}
	// Mark what was delivered even when stopping early; if the store
	// refuses (a newer drainer exists), those messages will be published
	// again by it: at least once, never lost.
	if err := d.store.MarkPublished(context.WithoutCancel(ctx), d.name, token, done); err != nil {
		return errors.Join(stop, err)
	}
	return stop
}

func (d *Drainer) fail(ctx context.Context, token uint64, m Message, cause error) (PublishOutcome, error) {
	attempts := m.Attempts + 1
	dead := attempts >= d.o.maxAttempts
	delay := d.o.backoff << min(attempts-1, 30)
	if delay <= 0 || delay > d.o.maxBackoff {
		delay = d.o.maxBackoff
	}
	retryAt := d.clock.Now().Add(delay)
	fields := []zap.Field{zap.Int64("id", m.ID), zap.String("topic", m.Topic), zap.String("key", m.Key),
		zap.Int("attempt", attempts), zap.Error(cause)}
	if dead {
		d.log.Error("outbox: message dead-lettered", fields...)
	} else {
		d.log.Warn("outbox: publish failed, will retry", append(fields, zap.Time("retry_at", retryAt))...)
	}
	outcome := OutcomeRetry
	if dead {
		outcome = OutcomeDead
	}
	return outcome, d.store.MarkFailed(ctx, d.name, token, m.ID, cause.Error(), retryAt, dead)
}

// cleanup deletes published messages past retention, at most once per
// cleanupEvery.
func (d *Drainer) cleanup(ctx context.Context) error {
	now := d.clock.Now()
	if d.o.retention == 0 || now.Sub(d.lastCleanup) < cleanupEvery {
		return nil
	}
	n, err := d.store.DeletePublished(ctx, now.Add(-d.o.retention))
	if err != nil {
		return err
	}
	d.lastCleanup = now
	if n > 0 {
		d.log.Info("outbox: retention cleanup", zap.Int64("deleted", n))
	}
	return nil
}
