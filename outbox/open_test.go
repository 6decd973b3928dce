package outbox_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/beignet-go/beignet/outbox"
)

// OpenPostgres reads the same variables as the provider, so a tool pointed
// at an app's environment sees the app's outbox.
func TestOpenPostgresReadsTheEnvironment(t *testing.T) {
	pool := testPool(t)
	app := newPostgres(t, pool)
	t.Setenv(outbox.EnvOutboxDatabaseURL, "")
	t.Setenv(outbox.EnvDatabaseURL, testDSN())
	t.Setenv(outbox.EnvSchema, app.Schema())
	store, err := outbox.OpenPostgres(context.Background(), outbox.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if store.Schema() != app.Schema() {
		t.Errorf("schema %q, want %q", store.Schema(), app.Schema())
	}
	if _, err := store.Stats(bg); err != nil {
		t.Errorf("Stats through the opened store: %v", err)
	}
	store.Close()
	// Close closed the pool OpenPostgres opened...
	if err := store.Pool().Ping(bg); err == nil {
		t.Error("the store's own pool is still open after Close")
	}
	// ...but never a pool the caller passed.
	mine, err := outbox.OpenPostgres(context.Background(), outbox.PostgresOptions{Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	mine.Close()
	if err := pool.Ping(bg); err != nil {
		t.Errorf("Close closed the caller's pool: %v", err)
	}
}

func TestOpenPostgresFailures(t *testing.T) {
	t.Setenv(outbox.EnvOutboxDatabaseURL, "")
	t.Setenv(outbox.EnvDatabaseURL, "")
	if _, err := outbox.OpenPostgres(bg, outbox.PostgresOptions{}); !errors.Is(err, outbox.ErrConfig) || !strings.Contains(err.Error(), outbox.EnvDatabaseURL) {
		t.Errorf("no URL: %v, want ErrConfig naming %s", err, outbox.EnvDatabaseURL)
	}
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	_, err = outbox.OpenPostgres(bg, outbox.PostgresOptions{URL: "postgres://postgres@" + addr.String() + "/test?sslmode=disable&connect_timeout=5"})
	if err == nil || !strings.Contains(err.Error(), "not reachable") || !strings.Contains(err.Error(), addr.IP.String()) {
		t.Errorf("unreachable server: %v, want an error naming it", err)
	}
	c, cancel := context.WithCancel(bg)
	cancel()
	// Refused or not, a cancelled ctx ends the connect policy at once.
	if _, err := outbox.OpenPostgres(c, outbox.PostgresOptions{URL: "postgres://postgres@" + addr.String() + "/test?sslmode=disable"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
}
