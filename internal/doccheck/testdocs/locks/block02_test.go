// Code generated from docs/locks.md by internal/doccheck -update. DO NOT EDIT.

package docs

import (
	"context"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"time"
)

// RenderTenant renders a tenant's report, page by page, under one lease.
func RenderTenant(ctx *ctx.Context, tenant string) error {
	res, err := ctx.Ports.Locks.Acquire(ctx, "render:tenant:"+tenant, locks.Options{
		TTL:  30 * time.Second,
		Wait: 2 * time.Second,
	})
	if err != nil || !res.Acquired {
		return err
	}
	lease := res.Lease
	defer lease.Release(context.WithoutCancel(ctx))
	for page := 0; page < 10; page++ {
		ok, err := lease.Renew(ctx, 0) // 0: the lease's own TTL
		if err != nil {
			return err // could not tell: Redis unreachable, say
		}
		if !ok {
			return locks.ErrLeaseLost // expired or taken: stop writing
		}
		// ... render page, writing with lease.FencingToken() ...
	}
	return nil
}
