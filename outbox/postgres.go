package outbox

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultSchema holds the outbox tables unless configured otherwise.
const DefaultSchema = "beignet_outbox"

// Postgres is the PostgreSQL Store. Messages are enqueued in the caller's
// pgx.Tx; claims and marks are fenced by the drain's lease token in the same
// statement or transaction as the work.
type Postgres struct {
	pool       *pgxpool.Pool
	schema     string
	maxPayload int
	q          queries
	ops        operatorQueries

	ownsPool bool // opened by OpenPostgres: Close closes it

	mu       sync.Mutex
	listener *listener
}

// PostgresOption configures NewPostgres.
type PostgresOption func(*Postgres)

// PostgresSchema sets the schema of the outbox tables (default
// DefaultSchema). It must be a plain identifier.
func PostgresSchema(name string) PostgresOption { return func(p *Postgres) { p.schema = name } }

// PostgresMaxPayload sets the largest payload accepted (default
// DefaultMaxPayload).
func PostgresMaxPayload(n int) PostgresOption { return func(p *Postgres) { p.maxPayload = n } }

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// NewPostgres returns a store on pool. Call Migrate once before use (the
// provider does it at start). The pool stays the caller's to close.
func NewPostgres(pool *pgxpool.Pool, opts ...PostgresOption) (*Postgres, error) {
	p := &Postgres{pool: pool, schema: DefaultSchema, maxPayload: DefaultMaxPayload}
	for _, o := range opts {
		o(p)
	}
	if !identifier.MatchString(p.schema) {
		return nil, fmt.Errorf("%w: schema %q: want a lower-case identifier", ErrConfig, p.schema)
	}
	p.q = newQueries(p.schema)
	p.ops = newOperatorQueries(p.schema, p.q.channel)
	return p, nil
}

var (
	_ Store    = (*Postgres)(nil)
	_ Notifier = (*Postgres)(nil)
)

// Pool is the pool the store uses, for the app's own queries in the same
// database.
func (p *Postgres) Pool() *pgxpool.Pool { return p.pool }

// Schema is the schema the store's tables live in.
func (p *Postgres) Schema() string { return p.schema }

// Migrate creates the schema, tables and indexes if they are missing. It is
// idempotent and safe to run from several instances at once.
func (p *Postgres) Migrate(ctx context.Context) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("outbox: migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	// Concurrent CREATE ... IF NOT EXISTS can still collide on the
	// catalog; one migrator at a time avoids it.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('beignet_outbox_migrate:' || $1))`, p.schema); err != nil {
		return fmt.Errorf("outbox: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, p.q.migrate); err != nil {
		return fmt.Errorf("outbox: migrate schema %q: %w", p.schema, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("outbox: migrate: %w", err)
	}
	return nil
}

// Enqueue writes msg in tx and returns its id. The message exists if and
// only if tx commits; drains listening for notifications wake on commit.
//
// A message with a non-empty key first takes a transaction-scoped advisory
// lock on the key, so another transaction enqueueing the same key waits
// until tx commits or rolls back. Ids are assigned at insert but become
// visible at commit; without the lock, a transaction that enqueued first
// and committed last would have its message published after a later one of
// the same key. With it, per key, id order is commit order. Enqueue a
// transaction's keys in a consistent order (sorted, say): two transactions
// taking the same two keys in opposite orders deadlock, and PostgreSQL
// aborts one of them.
func (p *Postgres) Enqueue(ctx context.Context, tx pgx.Tx, msg Message) (int64, error) {
	if tx == nil {
		return 0, ErrNoTransaction
	}
	if err := msg.validate(p.maxPayload); err != nil {
		return 0, err
	}
	headers := withTraceContext(ctx, msg.Headers)
	if headers == nil {
		headers = map[string]string{}
	}
	payload := msg.Payload
	if payload == nil {
		payload = []byte{}
	}
	// One round trip: the batch runs its statements in order, so the id
	// is drawn only once the key's lock is held.
	b := &pgx.Batch{}
	if msg.Key != "" {
		b.Queue(p.q.lockKey, p.schema+":"+msg.Key)
	}
	var id int64
	b.Queue(p.q.enqueue, msg.Topic, msg.Key, payload, headers).QueryRow(func(row pgx.Row) error { return row.Scan(&id) })
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("outbox: enqueue %q (key %q): %w", msg.Topic, msg.Key, err)
	}
	return id, nil
}

func pgToken(token uint64) (int64, error) {
	if token > math.MaxInt64 {
		return 0, fmt.Errorf("outbox: fencing token %d does not fit PostgreSQL bigint", token)
	}
	return int64(token), nil
}

// Claim implements Store. The fence is raised (or the call refused) and the
// batch read in one transaction; the fence row's lock orders it against
// every mark.
func (p *Postgres) Claim(ctx context.Context, drain string, token uint64, now time.Time, limit int) ([]Message, error) {
	tok, err := pgToken(token)
	if err != nil {
		return nil, err
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("outbox: claim: %w", err)
	}
	defer tx.Rollback(ctx)
	var seen int64
	if err := tx.QueryRow(ctx, p.q.raiseFence, drain, tok).Scan(&seen); err != nil {
		return nil, fmt.Errorf("outbox: claim for drain %q: %w", drain, err)
	}
	if seen != tok {
		return nil, fmt.Errorf("%w: drain %q: token %d, the store has seen %d", ErrFenced, drain, token, seen)
	}
	rows, err := tx.Query(ctx, p.q.claim, now, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: claim for drain %q: %w", drain, err)
	}
	msgs, err := pgx.CollectRows(rows, scanMessage)
	if err != nil {
		return nil, fmt.Errorf("outbox: claim for drain %q: %w", drain, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("outbox: claim for drain %q: %w", drain, err)
	}
	return msgs, nil
}

func scanMessage(row pgx.CollectableRow) (Message, error) {
	var m Message
	var status string
	var lastErr *string
	var published *time.Time
	err := row.Scan(&m.ID, &m.Topic, &m.Key, &m.Payload, &m.Headers, &m.CreatedAt, &m.AvailableAt, &m.Attempts, &status, &lastErr, &published)
	m.Status = Status(status)
	if lastErr != nil {
		m.LastError = *lastErr
	}
	if published != nil {
		m.PublishedAt = *published
	}
	return m, err
}

// fenced runs a mark statement whose first column is the drain's newest
// token (null if it never claimed), refusing if that is above token.
func (p *Postgres) fenced(ctx context.Context, what, drain string, token uint64, sql string, args ...any) error {
	tok, err := pgToken(token)
	if err != nil {
		return err
	}
	var seen *int64
	var n int64
	if err := p.pool.QueryRow(ctx, sql, append([]any{drain, tok}, args...)...).Scan(&seen, &n); err != nil {
		return fmt.Errorf("outbox: %s for drain %q: %w", what, drain, err)
	}
	if seen == nil || *seen > tok {
		s := "none"
		if seen != nil {
			s = fmt.Sprint(*seen)
		}
		return fmt.Errorf("%w: drain %q %s: token %d, the store has seen %s", ErrFenced, drain, what, token, s)
	}
	return nil
}

// MarkPublished implements Store, in one fenced statement.
func (p *Postgres) MarkPublished(ctx context.Context, drain string, token uint64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return p.fenced(ctx, "mark published", drain, token, p.q.markPublished, ids)
}

// MarkFailed implements Store, in one fenced statement.
func (p *Postgres) MarkFailed(ctx context.Context, drain string, token uint64, id int64, cause string, retryAt time.Time, dead bool) error {
	return p.fenced(ctx, "mark failed", drain, token, p.q.markFailed, id, cause, retryAt, dead)
}

// DeletePublished implements Store.
func (p *Postgres) DeletePublished(ctx context.Context, before time.Time) (int64, error) {
	tag, err := p.pool.Exec(ctx, p.q.deletePublished, before)
	if err != nil {
		return 0, fmt.Errorf("outbox: retention cleanup: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Get implements Store.
func (p *Postgres) Get(ctx context.Context, id int64) (Message, bool, error) {
	rows, err := p.pool.Query(ctx, p.q.get, id)
	if err != nil {
		return Message{}, false, fmt.Errorf("outbox: get %d: %w", id, err)
	}
	m, err := pgx.CollectExactlyOneRow(rows, scanMessage)
	if errors.Is(err, pgx.ErrNoRows) {
		return Message{}, false, nil
	}
	if err != nil {
		return Message{}, false, fmt.Errorf("outbox: get %d: %w", id, err)
	}
	return m, true, nil
}

// Subscribe implements Notifier with LISTEN on a dedicated connection,
// started on first use and stopped by Close.
func (p *Postgres) Subscribe() (<-chan struct{}, func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listener == nil {
		p.listener = startListener(p.pool, p.q.channel)
	}
	return p.listener.subscribe()
}

// Close stops the notification listener. The pool is closed only if
// OpenPostgres opened it.
func (p *Postgres) Close() {
	p.mu.Lock()
	l := p.listener
	p.listener = nil
	p.mu.Unlock()
	if l != nil {
		l.stop()
	}
	if p.ownsPool {
		p.pool.Close()
	}
}

type queries struct {
	channel, migrate, lockKey, enqueue, raiseFence, claim, markPublished, markFailed, deletePublished, get string
}

const columns = `id, topic, key, payload, headers, created_at, available_at, attempts, status, last_error, published_at`

func newQueries(schema string) queries {
	r := strings.NewReplacer("$S", pgx.Identifier{schema}.Sanitize(), "$C", columns)
	channel := schema + "_messages"
	return queries{
		channel: channel,
		migrate: r.Replace(`
CREATE SCHEMA IF NOT EXISTS $S;
CREATE TABLE IF NOT EXISTS $S.messages (
	id           bigserial PRIMARY KEY,
	topic        text        NOT NULL CHECK (topic <> ''),
	key          text        NOT NULL DEFAULT '',
	payload      bytea       NOT NULL,
	headers      jsonb       NOT NULL DEFAULT '{}',
	created_at   timestamptz NOT NULL DEFAULT now(),
	available_at timestamptz NOT NULL DEFAULT now(),
	attempts     integer     NOT NULL DEFAULT 0,
	status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'published', 'dead')),
	last_error   text,
	published_at timestamptz
);
CREATE INDEX IF NOT EXISTS messages_pending ON $S.messages (id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS messages_pending_key ON $S.messages (key, id) WHERE status = 'pending' AND key <> '';
CREATE INDEX IF NOT EXISTS messages_published ON $S.messages (published_at) WHERE status = 'published';
CREATE INDEX IF NOT EXISTS messages_dead ON $S.messages (id) WHERE status = 'dead';
CREATE TABLE IF NOT EXISTS $S.fences (
	drain text   PRIMARY KEY,
	token bigint NOT NULL
);`),
		// Held until the enqueueing transaction ends. The 64-bit hash of
		// schema and key makes collisions (which only serialise two
		// transactions needlessly) negligible.
		lockKey: `SELECT pg_advisory_xact_lock(hashtextextended('beignet_outbox_key:' || $1, 0))`,
		// The NOTIFY is transactional: it is delivered on commit, never
		// for a rolled-back message.
		enqueue: r.Replace(`
WITH m AS (
	INSERT INTO $S.messages (topic, key, payload, headers) VALUES ($1, $2, $3, $4) RETURNING id
)
SELECT m.id FROM m, pg_notify('` + channel + `', '')`),
		// Returns the drain's token after the upsert: ours if we raised
		// or matched it, the newer one if ours is stale.
		raiseFence: r.Replace(`
INSERT INTO $S.fences AS f (drain, token) VALUES ($1, $2)
ON CONFLICT (drain) DO UPDATE SET token = GREATEST(f.token, EXCLUDED.token)
RETURNING token`),
		claim: r.Replace(`
SELECT $C FROM $S.messages m
WHERE m.status = 'pending' AND m.available_at <= $1
  AND (m.key = '' OR NOT EXISTS (
	SELECT 1 FROM $S.messages e
	WHERE e.key = m.key AND e.id < m.id AND e.status = 'pending' AND e.available_at > $1))
ORDER BY m.id
LIMIT $2`),
		// FOR SHARE on the fence row waits for a concurrent claim that is
		// raising it, then reads the newest committed token.
		markPublished: r.Replace(`
WITH f AS (SELECT token FROM $S.fences WHERE drain = $1 FOR SHARE),
u AS (
	UPDATE $S.messages SET status = 'published', published_at = now()
	WHERE id = ANY($3) AND status = 'pending' AND (SELECT token FROM f) <= $2
	RETURNING 1
)
SELECT (SELECT token FROM f), (SELECT count(*) FROM u)`),
		markFailed: r.Replace(`
WITH f AS (SELECT token FROM $S.fences WHERE drain = $1 FOR SHARE),
u AS (
	UPDATE $S.messages SET attempts = attempts + 1, last_error = $4, available_at = $5,
		status = CASE WHEN $6::boolean THEN 'dead' ELSE 'pending' END
	WHERE id = $3 AND status = 'pending' AND (SELECT token FROM f) <= $2
	RETURNING 1
)
SELECT (SELECT token FROM f), (SELECT count(*) FROM u)`),
		deletePublished: r.Replace(`DELETE FROM $S.messages WHERE status = 'published' AND published_at < $1`),
		get:             r.Replace(`SELECT $C FROM $S.messages WHERE id = $1`),
	}
}
