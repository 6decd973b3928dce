// Code generated from docs/locks.md by internal/doccheck -update. DO NOT EDIT.

package docs

import (
	"context"
	"errors"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"time"
)

// SyncInvoices does its work under a lease that WithLease keeps renewed.
func SyncInvoices(ctx *ctx.Context) error {
	err := ctx.Ports.Locks.WithLease(ctx, "invoices:sync", locks.Options{TTL: 30 * time.Second},
		func(ctx context.Context, lease locks.Lease) error {
			// Renewed every TTL/3 in the background. ctx is cancelled with
			// cause locks.ErrLeaseLost if ownership cannot be confirmed.
			return nil
		})
	switch {
	case errors.Is(err, locks.ErrNotAcquired):
		return nil // someone else holds the key
	case errors.Is(err, locks.ErrLeaseLost):
		return err // we lost it midway; fn's ctx was cancelled
	}
	return err
}
