package beignet_test

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/fx"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
)

// New assembles the app from a providers list. With no locks provider,
// Ports.Locks is the in-memory adapter.
func ExampleNew() {
	app := beignet.New(fx.Invoke(func(p *ctx.Ports) error {
		res, err := p.Locks.Acquire(context.Background(), "example", locks.Options{TTL: time.Minute})
		if err != nil {
			return err
		}
		fmt.Println("acquired:", res.Acquired)
		return res.Lease.Release(context.Background())
	}))
	if err := app.Err(); err != nil {
		panic(err)
	}
	// Output: acquired: true
}
