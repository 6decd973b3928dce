// Code generated from docs/locks.md by internal/doccheck -update. DO NOT EDIT.

package docs

import (
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/locks/lockstest"
	"github.com/jonboulle/clockwork"
	"testing"
	"time"
)

func TestMyAdapter(t *testing.T) {
	lockstest.Run(t, func(t *testing.T) lockstest.Harness {
		clock := clockwork.NewFakeClock()
		return lockstest.Harness{
			Locks:   locks.NewMemory(locks.WithClock(clock)), // your adapter, on the clock
			TTL:     time.Second,
			Advance: clock.Advance,                               // lets d of the adapter's time pass
			Expire:  func(string) { clock.Advance(time.Second) }, // forgets the holder of a key
		}
	})
}
