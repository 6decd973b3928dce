// Code generated from docs/locks.md by internal/doccheck -update. DO NOT EDIT.

package docs

import (
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/locks/lockstest"
	"github.com/jonboulle/clockwork"
	"testing"
	"time"
)

func TestMyAdapterModel(t *testing.T) {
	lockstest.RunModel(t, func(t *testing.T) lockstest.Harness {
		clock := clockwork.NewFakeClock()
		return lockstest.Harness{
			Locks:   locks.NewMemory(locks.WithClock(clock)),
			TTL:     time.Second,
			Advance: clock.Advance,
			Clock:   clock, // the clock trust windows are read on
		}
	}, lockstest.ModelConfig{Iterations: 100})
}
