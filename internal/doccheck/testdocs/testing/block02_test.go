// Code generated from docs/testing.md by internal/doccheck -update. DO NOT EDIT.

package docs

import (
	"errors"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/scheduler"
	"sync"
	"time"
)

// Digests records the digest each tick sent; it stands in for a table.
type Digests struct {
	mu   sync.Mutex
	sent map[time.Time]uint64 // tick -> fencing token of the run that sent it
}

// Send is a schedule's handler.
func (d *Digests) Send(ctx *ctx.Context) error {
	run, ok := scheduler.RunFrom(ctx)
	if !ok {
		return errors.New("Digests.Send runs under the scheduler")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sent == nil {
		d.sent = make(map[time.Time]uint64)
	}
	d.sent[run.Tick] = run.Lease.FencingToken()
	return nil
}

// Sent returns the fencing token each tick's digest was sent with.
func (d *Digests) Sent() map[time.Time]uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[time.Time]uint64, len(d.sent))
	for tick, token := range d.sent {
		out[tick] = token
	}
	return out
}
