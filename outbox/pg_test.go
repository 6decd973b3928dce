package outbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beignet-go/beignet/internal/pgtest"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/outbox/outboxtest"
)

func testDSN() string { return pgtest.DSN() }

func testPool(t testing.TB) *pgxpool.Pool { return pgtest.Pool(t) }

// newPostgres returns a migrated store in a schema of the test's own, which
// is dropped afterwards; nothing else in the database is touched.
func newPostgres(t testing.TB, pool *pgxpool.Pool, opts ...outbox.PostgresOption) *outbox.Postgres {
	t.Helper()
	store, err := outbox.NewPostgres(pool, append([]outbox.PostgresOption{outbox.PostgresSchema(pgtest.Schema(t, pool))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store
}

func pgHarness(t *testing.T) outboxtest.Harness {
	pool := testPool(t)
	store := newPostgres(t, pool, outbox.PostgresMaxPayload(1024))
	return outboxtest.Harness{
		Store:      store,
		MaxPayload: 1024,
		Enqueue: func(t *testing.T, commit bool, msgs ...outbox.Message) error {
			tx, err := pool.Begin(bg)
			if err != nil {
				return err
			}
			defer tx.Rollback(bg)
			for _, m := range msgs {
				if _, err := store.Enqueue(bg, tx, m); err != nil {
					return err
				}
			}
			if commit {
				return tx.Commit(bg)
			}
			return nil
		},
		EnqueueNoTx: func() error { _, err := store.Enqueue(bg, nil, msg("t", "", "")); return err },
	}
}

func memHarness(t *testing.T) outboxtest.Harness {
	store := outbox.NewMemory(outbox.MemoryMaxPayload(1024))
	return outboxtest.Harness{
		Store:      store,
		MaxPayload: 1024,
		Enqueue: func(t *testing.T, commit bool, msgs ...outbox.Message) error {
			tx := store.Begin()
			defer tx.Rollback()
			for _, m := range msgs {
				if err := store.Enqueue(bg, tx, m); err != nil {
					return err
				}
			}
			if commit {
				return tx.Commit()
			}
			return nil
		},
		EnqueueNoTx: func() error { return store.Enqueue(bg, nil, msg("t", "", "")) },
	}
}

func TestPostgresStore(t *testing.T) { outboxtest.Run(t, pgHarness) }

func TestMemoryStore(t *testing.T) { outboxtest.Run(t, memHarness) }

func TestMigrateIsIdempotent(t *testing.T) {
	pool := testPool(t)
	store := newPostgres(t, pool)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() { errs <- store.Migrate(context.Background()) }()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent re-migration: %v", err)
		}
	}
}

func TestBadSchemaName(t *testing.T) {
	_, err := outbox.NewPostgres(testPool(t), outbox.PostgresSchema("x; DROP TABLE y"))
	if err == nil || !strings.Contains(err.Error(), "DROP TABLE") {
		t.Fatalf("NewPostgres with a hostile schema = %v; want an error naming it", err)
	}
}
