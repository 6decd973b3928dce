package redistest

import (
	"context"
	"crypto/rand"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// SharedAddr is the shared test server that `make test` starts
// (BEIGNET_TEST_REDIS_ADDR overrides it).
func SharedAddr() string {
	if a := os.Getenv("BEIGNET_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// SharedClient connects to the shared test server and closes the client
// when the test ends. Tests must keep to their own UniquePrefix there.
func SharedClient(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:                     SharedAddr(),
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at %s: %v (make test starts it)", SharedAddr(), err)
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

// DeletePrefix deletes the keys of every lock under prefix. It follows
// redislocks' key layout, {prefix|key}..., for a prefix without "%", "{",
// "}", "|" or glob characters (which that layout would escape), as
// UniquePrefix's are.
func DeletePrefix(c redis.UniversalClient, prefix string) {
	ctx := context.Background()
	del := func(c redis.UniversalClient) {
		iter := c.Scan(ctx, 0, "{"+prefix+"|*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { del(n); return nil })
		return
	}
	del(c)
}
