// Package pgtest runs the PostgreSQL that a package's tests share: a
// private cluster, made by initdb in a temporary directory with trust auth
// in its own configuration and served on a free loopback port, and schemas
// of their own in it for each test. No test touches a PostgreSQL it did not
// start unless DATABASE_TEST_URL points at one. See internal/testserver for
// the TestMain hook.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beignet-go/beignet/internal/testserver"
)

// EnvURL names a database to use instead of a private cluster. Tests keep
// to their own schemas there and drop them afterwards.
const EnvURL = "DATABASE_TEST_URL"

// shared is the cluster this test process's tests share, as its DSN.
var shared = testserver.Shared[string]{Start: startShared}

func startShared() (string, func(), error) {
	if dsn := os.Getenv(EnvURL); dsn != "" {
		return dsn, func() {}, nil
	}
	c, err := startCluster(binDirs()...)
	if err != nil {
		return "", nil, err
	}
	return c.dsn, c.stop, nil
}

func sharedDSN() (string, error) {
	dsn, err := shared.Get()
	if err != nil {
		return "", fmt.Errorf("shared test PostgreSQL: %w", err)
	}
	return dsn, nil
}

// DSN is the connection string of the database this package's tests share
// (or DATABASE_TEST_URL), for a worker process or a pool built by hand. Call
// Pool first: it skips under -short and fails the test cleanly when no
// server can start, where DSN can only panic.
func DSN() string {
	dsn, err := sharedDSN()
	if err != nil {
		panic(err)
	}
	return dsn
}

// Pool connects to the database this package's tests share, started on
// first use, and closes the pool when the test ends. Under -short it skips
// the test.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	testserver.Require(t, "PostgreSQL")
	dsn, err := sharedDSN()
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := pool.Ping(context.Background()); err != nil {
		t.Fatalf("shared test PostgreSQL: %v", err)
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
