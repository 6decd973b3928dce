package redislocks

import (
	"context"
	"os"

	"github.com/beignet-go/beignet/ctx"
)

// Connect opens Redis as Provider does (Options first, then the REDIS_LOCKS_*
// variables, then the defaults) and pings it up to ConnectMaxAttempts
// times, for programs that run outside an fx app, such as the beignet CLI.
// The caller closes the returned client (RedisLocks.Client) unless it passed
// its own in Options.Client.
func Connect(c context.Context, opts Options) (*Locks, *ctx.RedisLocks, error) {
	return connectWith(c, opts, os.Getenv)
}

func connectWith(c context.Context, opts Options, getenv func(string) string) (*Locks, *ctx.RedisLocks, error) {
	o, client, owned, err := opts.open(getenv)
	if err != nil {
		return nil, nil, err
	}
	if err := connect(c, client, o.ConnectMaxAttempts); err != nil {
		if owned {
			_ = client.Close()
		}
		return nil, nil, err
	}
	return New(client, o.Prefix, WithFenceTTL(o.FenceTTL)), &ctx.RedisLocks{Client: client, Prefix: o.Prefix}, nil
}
