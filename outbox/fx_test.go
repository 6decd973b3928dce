package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/internal/pgtest"
	"github.com/beignet-go/beignet/internal/testserver"
	"github.com/beignet-go/beignet/outbox"
)

// The memory store's commit wakes a registered drain at once.
func TestDrainUnderBeignetNew(t *testing.T) {
	pub := newRecordingPublisher()
	var store *outbox.Memory
	app := beignet.New(outbox.MemoryProvider(), outbox.Drain("orders", pub, outbox.Interval(time.Hour)), fx.Populate(&store))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	tx := store.Begin()
	if err := store.Enqueue(bg, tx, msg("order.placed", "o-1", "{}")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-pub.notify:
		if id != 1 {
			t.Fatalf("published %d", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not published")
	}
}

func TestPostgresProviderConfig(t *testing.T) {
	valid := "postgres://u@127.0.0.1:1/db" // well-formed; never dialled, since construction fails
	cases := []struct {
		name    string
		env     map[string]string
		mention string
	}{
		{"no URL", map[string]string{outbox.EnvDatabaseURL: "", outbox.EnvOutboxDatabaseURL: ""}, outbox.EnvDatabaseURL},
		// The shape of REDIS_LOCKS_URL's: the variable, its value quoted
		// with the password masked, the reason.
		{"malformed DATABASE_URL", map[string]string{outbox.EnvDatabaseURL: "postgres://u:secret@h:notaport/db"},
			`outbox: bad configuration: DATABASE_URL="postgres://u:xxxxx@h:notaport/db": invalid port`},
		{"OUTBOX_DATABASE_URL wins", map[string]string{outbox.EnvDatabaseURL: valid, outbox.EnvOutboxDatabaseURL: "postgres://u:secret@h:notaport/db"},
			`outbox: bad configuration: OUTBOX_DATABASE_URL="postgres://u:xxxxx@h:notaport/db": invalid port`},
		{"bad schema", map[string]string{outbox.EnvDatabaseURL: valid, outbox.EnvSchema: "Bad-Name"}, "Bad-Name"},
		{"connect attempts not a number", map[string]string{outbox.EnvDatabaseURL: valid, outbox.EnvConnectMaxAttempts: "five"}, `OUTBOX_CONNECT_MAX_ATTEMPTS="five"`},
		{"connect attempts below 1", map[string]string{outbox.EnvDatabaseURL: valid, outbox.EnvConnectMaxAttempts: "-1"}, "OUTBOX_CONNECT_MAX_ATTEMPTS=-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			app := beignet.New(outbox.PostgresProvider(outbox.PostgresOptions{}), fx.Invoke(func(outbox.Store) {}))
			err := app.Err()
			if !errors.Is(err, outbox.ErrConfig) || !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("err = %v; want ErrConfig naming %q", err, c.mention)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

// An unreachable PostgreSQL fails start on the same policy as Redis: the
// default 5 attempts, 1.5 s of waits between them, and an error naming the
// address.
func TestPostgresUnreachableFailsWithinTheConnectBudget(t *testing.T) {
	port, err := testserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	app := fx.New(fx.NopLogger,
		outbox.PostgresProvider(outbox.PostgresOptions{URL: "postgres://u@" + addr + "/db?sslmode=disable"}),
		fx.Invoke(func(outbox.Store) {}))
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	err = app.Start(context.Background())
	took := time.Since(began)
	if err == nil || !strings.Contains(err.Error(), addr+"/db not reachable after 5 attempts") {
		t.Fatalf("start = %v, want a failure naming %s after 5 attempts", err, addr)
	}
	// The waits are real; the slack covers five refused dials on a loaded
	// machine.
	if budget := 1500 * time.Millisecond; took < budget || took > budget+time.Second {
		t.Errorf("failed after %v, want 1.5s plus the dials", took)
	}
	t.Logf("failed in %v", took.Round(time.Millisecond))
}

func TestPostgresProviderMigratesAtStart(t *testing.T) {
	pool := testPool(t)
	schema := pgtest.Schema(t, pool)
	t.Setenv(outbox.EnvDatabaseURL, testDSN())
	t.Setenv(outbox.EnvSchema, schema)
	var store *outbox.Postgres
	app := beignet.New(outbox.PostgresProvider(outbox.PostgresOptions{}), fx.Populate(&store))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	tx, _ := pool.Begin(bg)
	defer tx.Rollback(bg)
	if _, err := store.Enqueue(bg, tx, msg("t", "", "")); err != nil {
		t.Fatalf("enqueue after the provider's migration: %v", err)
	}
}

// A publisher constructor of the wrong type names the drain and the
// signature it needs, as ScheduleWith does, instead of fx's chain of
// missing types.
func TestDrainWithWrongConstructor(t *testing.T) {
	var nilFunc func() outbox.Publisher
	for name, constructor := range map[string]any{
		"concrete publisher type": func() *outbox.WebhookPublisher { return nil },
		"publisher value":         outbox.LogPublisher{},
		"second result":           func() (outbox.Publisher, int) { return nil, 0 },
		"nil":                     nil,
		"nil func":                nilFunc,
	} {
		t.Run(name, func(t *testing.T) {
			err := fx.New(fx.NopLogger, outbox.DrainWith("events", constructor)).Err()
			if !errors.Is(err, outbox.ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
			for _, want := range []string{`DrainWith("events")`, "func(deps...) outbox.Publisher or func(deps...) (outbox.Publisher, error)"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %s", err, want)
				}
			}
		})
	}
	// The right types still build.
	for name, constructor := range map[string]any{
		"publisher":           func() outbox.Publisher { return outbox.LogPublisher{} },
		"publisher and error": func(l *zap.Logger) (outbox.Publisher, error) { return outbox.LogPublisher{Logger: l}, nil },
	} {
		t.Run(name, func(t *testing.T) {
			err := fx.New(fx.NopLogger, fx.Supply(zap.NewNop()), outbox.DrainWith("events", constructor)).Err()
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
