package main

import (
	"context"
	"testing"
	"time"

	"go.uber.org/fx/fxtest"

	"github.com/beignet-go/beignet/internal/pgtest"
	"github.com/beignet-go/beignet/outbox"
)

// On PostgreSQL a report and its outbox message commit together, and the
// period's primary key makes a second run for the same tick a no-op.
func TestPostgresReportsOncePerPeriod(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store, err := outbox.NewPostgres(pool, outbox.PostgresSchema(pgtest.Schema(t, pool)))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	lc := fxtest.NewLifecycle(t)
	reports := newPostgresReports(lc, store)
	lc.RequireStart()
	t.Cleanup(lc.RequireStop)

	period := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	r, created, err := reports.Create(ctx, period, 7)
	if err != nil || !created {
		t.Fatalf("first Create = %+v, %v, %v", r, created, err)
	}
	if r.Orders != 4 || r.Revenue != 15249 || r.Token != 7 {
		t.Fatalf("report = %+v; want the 4 seeded orders, 15249 cents, token 7", r)
	}
	if _, created, err := reports.Create(ctx, period, 8); err != nil || created {
		t.Fatalf("second Create for the same period = %v, %v; want a no-op", created, err)
	}
	msgs, err := store.Claim(ctx, "test", 1, time.Now().Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Topic != "report.ready" {
		t.Fatalf("outbox holds %+v; want one report.ready", msgs)
	}
}
