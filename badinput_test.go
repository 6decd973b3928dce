package beignet_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/internal/testserver"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// Every kind of bad input a user can hand Beignet gives a clear error that
// names what is wrong, and never panics or hangs.
func TestBadInputTable(t *testing.T) {
	down := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	var shared string // the test Redis, for the one case that needs a server
	if !testing.Short() {
		redistest.SharedClient(t)
		shared = redistest.SharedAddr()
	}
	noop := func(*ctx.Context) error { return nil }
	acquire := func(key string, o locks.Options) func() error {
		return func() error {
			_, err := locks.NewMemory().Acquire(context.Background(), key, o)
			return err
		}
	}
	start := func(env map[string]string, opts ...fx.Option) func() error {
		return func() error {
			for k, v := range env {
				t.Setenv(k, v)
			}
			app := beignet.New(append(opts, fx.StartTimeout(10*time.Second))...)
			if err := app.Err(); err != nil {
				return err
			}
			err := app.Start(context.Background())
			_ = app.Stop(context.Background())
			return err
		}
	}
	cases := []struct {
		name    string
		run     func() error
		is      error
		mention string
	}{
		{"empty key", acquire("", locks.Options{TTL: time.Second}), locks.ErrInvalidKey, "empty"},
		{"key over 1 KiB", acquire(strings.Repeat("k", 1025), locks.Options{TTL: time.Second}), locks.ErrInvalidKey, "1025"},
		{"control character in key", acquire("a\tb", locks.Options{TTL: time.Second}), locks.ErrInvalidKey, `"a\tb"`},
		{"zero TTL", acquire("k", locks.Options{}), locks.ErrInvalidTTL, "0s"},
		{"negative wait", acquire("k", locks.Options{TTL: time.Second, Wait: -time.Second}), locks.ErrInvalidWait, "-1s"},
		{"oversized metadata", acquire("k", locks.Options{TTL: time.Second, Metadata: map[string]string{"x": strings.Repeat("v", 9000)}}), locks.ErrInvalidMetadata, "9001"},
		{"invalid cron spec", start(nil, scheduler.Schedule("nightly", "0 25 * * *", noop)), scheduler.ErrInvalidSpec, `"nightly"`},
		{"duplicate schedule name", start(nil, scheduler.Schedule("twice", "@daily", noop), scheduler.Schedule("twice", "@hourly", noop)), scheduler.ErrDuplicateName, `"twice"`},
		{"malformed REDIS_LOCKS_URL", start(map[string]string{redislocks.EnvURL: "redis://host:port:port"}, redislocks.Provider(redislocks.Options{})), redislocks.ErrConfig, redislocks.EnvURL},
		{"wrong Redis credentials", start(map[string]string{redislocks.EnvURL: "redis://someone:wrong@" + shared, redislocks.EnvConnectMaxAttempts: "1"}, redislocks.Provider(redislocks.Options{})), nil, shared},
		{"unreachable Redis", start(map[string]string{redislocks.EnvURL: "redis://" + down, redislocks.EnvConnectMaxAttempts: "2"}, redislocks.Provider(redislocks.Options{})), nil, down},
		{"malformed DATABASE_URL", start(map[string]string{outbox.EnvDatabaseURL: "postgres://u:pw@host:port/db", outbox.EnvOutboxDatabaseURL: ""}, outbox.PostgresProvider(outbox.PostgresOptions{}), fx.Invoke(func(outbox.Store) {})), outbox.ErrConfig, outbox.EnvDatabaseURL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.mention == shared { // the case that needs the test Redis
				testserver.Require(t, "redis-server")
			}
			done := make(chan error, 1)
			go func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("panicked: %v", p)
						done <- nil
					}
				}()
				done <- c.run()
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("hung")
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("error %q does not name %s", err, c.mention)
			}
		})
	}
}
