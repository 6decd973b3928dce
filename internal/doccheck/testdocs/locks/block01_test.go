// Code generated from docs/locks.md by internal/doccheck -update. DO NOT EDIT.

package docs

import (
	"context"
	"github.com/beignet-go/beignet/locks"
)

type Locks interface {
	Acquire(ctx context.Context, key string, opts locks.Options) (locks.Result, error)
	WithLease(ctx context.Context, key string, opts locks.Options, fn func(ctx context.Context, lease locks.Lease) error) error
}
