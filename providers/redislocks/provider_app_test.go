package redislocks_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

func TestProviderContributesPorts(t *testing.T) {
	c := newClient(t)
	prefix := uniquePrefix(t, c)
	t.Setenv(redislocks.EnvURL, "redis://"+redisAddr()+"/0")
	t.Setenv(redislocks.EnvPrefix, prefix)
	var p *ctx.Ports
	app := beignet.New(redislocks.Provider(redislocks.Options{}), fx.Populate(&p))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Locks.(*redislocks.Locks); !ok {
		t.Fatalf("Ports.Locks = %T, want *redislocks.Locks", p.Locks)
	}
	if p.RedisLocks == nil || p.RedisLocks.Prefix != prefix || p.RedisLocks.Client == nil {
		t.Fatalf("Ports.RedisLocks = %+v", p.RedisLocks)
	}
	res, err := p.Locks.Acquire(context.Background(), "k", locks.Options{TTL: time.Second})
	if err != nil || !res.Acquired {
		t.Fatal(res, err)
	}
	_ = res.Lease.Release(context.Background())
	if err := app.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.RedisLocks.Client.Ping(context.Background()).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("provider's own client after stop: Ping = %v, want closed", err)
	}
}

func TestProviderLeavesCallersClientOpen(t *testing.T) {
	c := newClient(t)
	app := beignet.New(redislocks.Provider(redislocks.Options{Client: c, Prefix: uniquePrefix(t, c)}))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := app.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("caller's client closed by the provider: %v", err)
	}
}

// Bad configuration fails the app at construction or start, with an error
// that names what is wrong, and never hangs.
func TestProviderStartFailures(t *testing.T) {
	down := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	cases := []struct {
		name    string
		env     map[string]string
		mention string
	}{
		{"malformed URL", map[string]string{redislocks.EnvURL: "redis://h:notaport"}, redislocks.EnvURL},
		{"malformed DB", map[string]string{redislocks.EnvDB: "x"}, redislocks.EnvDB},
		{"unreachable", map[string]string{redislocks.EnvURL: "redis://" + down, redislocks.EnvConnectMaxAttempts: "2"}, down},
	}
	if !testing.Short() { // the one case that needs a server
		cases = append(cases, struct {
			name    string
			env     map[string]string
			mention string
		}{"wrong credentials", map[string]string{redislocks.EnvURL: "redis://nobody:wrong@" + redisAddr(), redislocks.EnvConnectMaxAttempts: "1"}, redisAddr()})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			app := beignet.New(redislocks.Provider(redislocks.Options{}), fx.StartTimeout(10*time.Second))
			err := app.Err()
			if err == nil {
				start := time.Now()
				err = app.Start(context.Background())
				if d := time.Since(start); d > 8*time.Second {
					t.Errorf("start took %v to fail", d)
				}
				_ = app.Stop(context.Background())
			}
			if err == nil || !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("err = %v; want a failure naming %q", err, c.mention)
			}
		})
	}
}
