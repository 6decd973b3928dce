// Package pgtest gives tests the shared PostgreSQL that `make test` starts,
// and schemas of their own in it.
package pgtest

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DSN is the shared test database (BEIGNET_TEST_DATABASE_URL overrides it).
func DSN() string {
	if s := os.Getenv("BEIGNET_TEST_DATABASE_URL"); s != "" {
		return s
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Pool connects to the shared test database and closes the pool when the
// test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := pool.Ping(context.Background()); err != nil {
		t.Fatalf("PostgreSQL at %s: %v (make test starts it)", DSN(), err)
	}
	return pool
}

// Schema returns a schema name private to the test and drops that schema
// when the test ends (register it after Pool, so it runs before the pool
// closes); nothing else in the database is touched.
func Schema(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	name := "beignet_test_" + strings.ToLower(rand.Text()[:10])
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
	})
	return name
}
