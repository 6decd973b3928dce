package outbox

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Stats implements Operator. The age is measured by the database's clock,
// the one that stamped the messages.
func (p *Postgres) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	var oldest *time.Time
	var now time.Time
	if err := p.pool.QueryRow(ctx, p.ops.stats).Scan(&st.Pending, &st.Retrying, &st.Dead, &oldest, &now); err != nil {
		return Stats{}, fmt.Errorf("outbox: stats of schema %q: %w", p.schema, err)
	}
	if oldest != nil {
		st.OldestPendingAt = *oldest
		st.OldestPendingAge = max(now.Sub(*oldest), 0)
	}
	rows, err := p.pool.Query(ctx, p.ops.drains)
	if err != nil {
		return Stats{}, fmt.Errorf("outbox: drains of schema %q: %w", p.schema, err)
	}
	if st.Drains, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return Stats{}, fmt.Errorf("outbox: drains of schema %q: %w", p.schema, err)
	}
	return st, nil
}

// DeadLetters implements Operator.
func (p *Postgres) DeadLetters(ctx context.Context, limit int) ([]Message, error) {
	if err := validateLimit(limit); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, p.ops.dead, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: dead letters: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, scanMessage)
	if err != nil {
		return nil, fmt.Errorf("outbox: dead letters: %w", err)
	}
	return msgs, nil
}

// Requeue implements Operator, in one transaction that also notifies the
// drains.
func (p *Postgres) Requeue(ctx context.Context, ids ...int64) error {
	ids = uniqueIDs(ids)
	if len(ids) == 0 {
		return nil
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("outbox: requeue: %w", err)
	}
	defer tx.Rollback(ctx)
	// Lock the rows first, so the check and the update see the same
	// messages even when a drain or another operator acts meanwhile.
	rows, err := tx.Query(ctx, p.ops.statuses, ids)
	if err != nil {
		return fmt.Errorf("outbox: requeue %v: %w", ids, err)
	}
	status := make(map[int64]Status, len(ids))
	var id int64
	var s string
	if _, err := pgx.ForEachRow(rows, []any{&id, &s}, func() error { status[id] = Status(s); return nil }); err != nil {
		return fmt.Errorf("outbox: requeue %v: %w", ids, err)
	}
	if err := requeueError(ids, status); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, p.ops.requeue, ids); err != nil {
		return fmt.Errorf("outbox: requeue %v: %w", ids, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("outbox: requeue %v: %w", ids, err)
	}
	return nil
}

// RequeueDead implements Operator, in one statement that also notifies the
// drains.
func (p *Postgres) RequeueDead(ctx context.Context) (int64, error) {
	var n int64
	if err := p.pool.QueryRow(ctx, p.ops.requeueDead).Scan(&n, nil); err != nil {
		return 0, fmt.Errorf("outbox: requeue dead letters: %w", err)
	}
	return n, nil
}

// operatorQueries are the statements behind Operator.
type operatorQueries struct {
	stats, drains, dead, requeue, statuses, requeueDead string
}

func newOperatorQueries(schema, channel string) operatorQueries {
	r := strings.NewReplacer("$S", pgx.Identifier{schema}.Sanitize(), "$C", columns, "$N", channel)
	// The requeue's NOTIFY is transactional, like the enqueue's: drains
	// wake when it commits.
	const requeued = `status = 'pending', attempts = 0, available_at = now()`
	return operatorQueries{
		stats: r.Replace(`
SELECT count(*) FILTER (WHERE status = 'pending' AND attempts = 0),
       count(*) FILTER (WHERE status = 'pending' AND attempts > 0),
       count(*) FILTER (WHERE status = 'dead'),
       min(created_at) FILTER (WHERE status = 'pending'),
       now()
FROM $S.messages WHERE status IN ('pending', 'dead')`),
		drains: r.Replace(`SELECT drain FROM $S.fences ORDER BY drain`),
		dead:   r.Replace(`SELECT $C FROM $S.messages WHERE status = 'dead' ORDER BY id DESC LIMIT $1`),
		requeue: r.Replace(`
WITH u AS (UPDATE $S.messages SET ` + requeued + ` WHERE id = ANY($1) AND status = 'dead')
SELECT pg_notify('$N', '')`),
		statuses: r.Replace(`SELECT id, status FROM $S.messages WHERE id = ANY($1) ORDER BY id FOR UPDATE`),
		requeueDead: r.Replace(`
WITH u AS (UPDATE $S.messages SET ` + requeued + ` WHERE status = 'dead' RETURNING 1)
SELECT (SELECT count(*) FROM u), pg_notify('$N', '')`),
	}
}
