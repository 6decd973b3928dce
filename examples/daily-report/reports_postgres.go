package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/fx"

	"github.com/beignet-go/beignet/outbox"
)

// postgresReports keeps orders and reports in PostgreSQL, in the outbox's
// schema, and enqueues in the same transaction as the report.
type postgresReports struct {
	store         *outbox.Postgres
	orders, table string // quoted table names
}

func newPostgresReports(lc fx.Lifecycle, store *outbox.Postgres) Reports {
	r := &postgresReports{
		store:  store,
		orders: pgx.Identifier{store.Schema(), "demo_orders"}.Sanitize(),
		table:  pgx.Identifier{store.Schema(), "daily_reports"}.Sanitize(),
	}
	lc.Append(fx.StartHook(func(c context.Context) error {
		// The outbox provider's start hook (registered first) has run its
		// migration; these are the app's own tables.
		_, err := store.Pool().Exec(c, fmt.Sprintf(`
CREATE TABLE IF NOT EXISTS %[1]s (amount_cents bigint NOT NULL);
INSERT INTO %[1]s SELECT * FROM (VALUES (1250), (4999), (300), (8700)) v WHERE NOT EXISTS (SELECT 1 FROM %[1]s);
CREATE TABLE IF NOT EXISTS %[2]s (
	period        timestamptz PRIMARY KEY,
	orders        integer NOT NULL,
	revenue_cents bigint  NOT NULL,
	fencing_token bigint  NOT NULL
);`, r.orders, r.table))
		return err
	}))
	return r
}

func (r *postgresReports) Describe() string {
	return "postgres (schema " + r.store.Schema() + ")"
}

func (r *postgresReports) Create(ctx context.Context, period time.Time, token uint64) (Report, bool, error) {
	pool := r.store.Pool()
	tx, err := pool.Begin(ctx)
	if err != nil {
		return Report{}, false, err
	}
	defer tx.Rollback(ctx)
	rep := Report{Period: period, Token: token}
	if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(sum(amount_cents), 0) FROM `+r.orders).Scan(&rep.Orders, &rep.Revenue); err != nil {
		return Report{}, false, err
	}
	// The primary key on period makes a second report for the same tick
	// impossible, whatever the leases did.
	err = tx.QueryRow(ctx, `INSERT INTO `+r.table+` (period, orders, revenue_cents, fencing_token)
VALUES ($1, $2, $3, $4) ON CONFLICT (period) DO NOTHING RETURNING period`,
		period, rep.Orders, rep.Revenue, int64(token)).Scan(new(time.Time))
	if errors.Is(err, pgx.ErrNoRows) {
		return rep, false, nil
	}
	if err != nil {
		return Report{}, false, err
	}
	msg, err := readyMessage(rep)
	if err != nil {
		return Report{}, false, err
	}
	if _, err := r.store.Enqueue(ctx, tx, msg); err != nil {
		return Report{}, false, err
	}
	return rep, true, tx.Commit(ctx)
}
