package outbox_test

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beignet-go/beignet/outbox"
)

// testDSN is the shared test database that `make test` starts.
func testDSN() string {
	if s := os.Getenv("BEIGNET_TEST_DATABASE_URL"); s != "" {
		return s
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), testDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := pool.Ping(context.Background()); err != nil {
		t.Fatalf("PostgreSQL at %s: %v (make test starts it)", testDSN(), err)
	}
	return pool
}

// newPostgres returns a migrated store in a schema of the test's own, which
// is dropped afterwards; nothing else in the database is touched.
func newPostgres(t testing.TB, pool *pgxpool.Pool, opts ...outbox.PostgresOption) *outbox.Postgres {
	t.Helper()
	schema := "beignet_test_" + strings.ToLower(rand.Text()[:10])
	store, err := outbox.NewPostgres(pool, append([]outbox.PostgresOption{outbox.PostgresSchema(schema)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		store.Close()
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store
}

func pgHarness(t *testing.T) storeHarness {
	pool := testPool(t)
	store := newPostgres(t, pool, outbox.PostgresMaxPayload(1024))
	return storeHarness{
		store:      store,
		maxPayload: 1024,
		enqueue: func(t *testing.T, commit bool, msgs ...outbox.Message) error {
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
		enqueueNoTx: func() error { _, err := store.Enqueue(bg, nil, msg("t", "", "")); return err },
	}
}

func memHarness(t *testing.T) storeHarness {
	store := outbox.NewMemory(outbox.MemoryMaxPayload(1024))
	return storeHarness{
		store:      store,
		maxPayload: 1024,
		enqueue: func(t *testing.T, commit bool, msgs ...outbox.Message) error {
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
		enqueueNoTx: func() error { return store.Enqueue(bg, nil, msg("t", "", "")) },
	}
}

func TestPostgresStore(t *testing.T) { runStoreSuite(t, pgHarness) }

func TestMemoryStore(t *testing.T) { runStoreSuite(t, memHarness) }

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
