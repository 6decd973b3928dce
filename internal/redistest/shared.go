package redistest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/beignet-go/beignet/internal/testserver"
)

// EnvURL names a Redis to use instead of a private one (a redis:// URL).
// Tests keep to their own key prefixes there and delete them afterwards.
const EnvURL = "REDIS_TEST_URL"

// shared is the redis-server this test process's tests share.
var shared = testserver.Shared[*redis.Options]{Start: startShared}

func startShared() (*redis.Options, func(), error) {
	if u := os.Getenv(EnvURL); u != "" {
		o, err := redis.ParseURL(u)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", EnvURL, err)
		}
		return o, func() {}, nil
	}
	port, err := testserver.FreePort()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "beignet-redistest-")
	if err != nil {
		return nil, nil, err
	}
	proc, err := startRedis(port, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	stop := func() {
		proc.Stop(syscall.SIGKILL)
		os.RemoveAll(dir)
	}
	return &redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)}, stop, nil
}

// sharedOptions returns the shared server's client options, starting it on
// first use.
func sharedOptions() (redis.Options, error) {
	o, err := shared.Get()
	if err != nil {
		return redis.Options{}, fmt.Errorf("shared test Redis: %w", err)
	}
	return *o, nil
}

// SharedAddr is the address of the redis-server this package's tests share
// (or of REDIS_TEST_URL's server), for a worker process or a client built by
// hand. Call SharedClient first: it skips under -short and fails the test
// cleanly when no server can start, where SharedAddr can only panic.
func SharedAddr() string {
	o, err := sharedOptions()
	if err != nil {
		panic(err)
	}
	return o.Addr
}

// SharedClient returns a client of the redis-server this package's tests
// share, started on first use, and closes the client when the test ends.
// Tests must keep to their own UniquePrefix there. Under -short it skips the
// test.
func SharedClient(t testing.TB) *redis.Client {
	t.Helper()
	testserver.Require(t, "redis-server")
	o, err := sharedOptions()
	if err != nil {
		t.Fatal(err)
	}
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	c := redis.NewClient(&o)
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("shared test Redis at %s: %v", o.Addr, err)
	}
	return c
}

// UniquePrefix returns a key prefix private to the test and deletes every
// key under it when the test ends; nothing else on the server is touched.
// cleanup must still be open then (register it before the client's Close).
func UniquePrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	p := "beignet-test:" + rand.Text()[:12]
	t.Cleanup(func() { DeletePrefix(c, p) })
	return p
}

// DeletePrefix deletes the keys of every lock and of the ledger under
// prefix. It follows
// redislocks' key layout, {prefix|key}..., for a prefix without "%", "{",
// "}", "|" or glob characters (which that layout would escape), as
// UniquePrefix's are.
func DeletePrefix(c redis.UniversalClient, prefix string) {
	ctx := context.Background()
	del := func(c redis.UniversalClient) {
		// "|" after the prefix starts a lease's keys, "#" the ledger's.
		for _, sep := range []string{"|", "#"} {
			iter := c.Scan(ctx, 0, "{"+prefix+sep+"*", 1000).Iterator()
			for iter.Next(ctx) {
				c.Del(ctx, iter.Val())
			}
		}
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { del(n); return nil })
		return
	}
	del(c)
}
