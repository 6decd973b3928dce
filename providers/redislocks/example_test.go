package redislocks_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"go.uber.org/fx"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// New works without fx: hand it any redis.UniversalClient. It prints
// "true true web-1". (The example is compiled but not run, because it needs
// a Redis server and `go test -short` runs without servers; the lockstest
// conformance suite runs the same steps against a real one.)
func ExampleNew() {
	client := redis.NewClient(&redis.Options{
		Addr:                     redisAddr(), // your Redis, such as "127.0.0.1:6379"
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	defer client.Close()
	// A short fence TTL keeps this example from leaving state behind; apps
	// keep the default.
	l := redislocks.New(client, "example:"+fmt.Sprint(time.Now().UnixNano()), redislocks.WithFenceTTL(time.Minute))
	ctx := context.Background()

	res, err := l.Acquire(ctx, "report", locks.Options{TTL: 10 * time.Second, Metadata: map[string]string{"host": "web-1"}})
	if err != nil {
		fmt.Println("redis unavailable:", err)
		return
	}
	defer res.Lease.Release(ctx)

	info, held, _ := l.Inspect(ctx, "report")
	fmt.Println(res.Acquired, held, info.Metadata["host"])
}

// Provider is one line of an app's providers.go; it reads REDIS_LOCKS_* for
// whatever Options leave unset.
func ExampleProvider() {
	providers := []fx.Option{
		redislocks.Provider(redislocks.Options{Prefix: "billing:locks"}),
	}
	beignet.New(providers...).Run()
}

// A Redis Cluster or Sentinel deployment is one UniversalClient away.
func ExampleProvider_cluster() {
	cluster := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs: []string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"},
		// With MasterName set, the same call gives a Sentinel client.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	beignet.New(redislocks.Provider(redislocks.Options{Client: cluster})).Run()
}
