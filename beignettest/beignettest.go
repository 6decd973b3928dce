// Package beignettest gives an app's tests the ports a handler expects,
// wired to in-memory locks on a fake clock, so time-based logic is tested by
// advancing the clock rather than by sleeping.
package beignettest

import (
	"testing"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
)

// TestPorts are ports for one test, with typed access to the fakes behind
// them.
type TestPorts struct {
	// Ports is what handlers receive.
	Ports *ctx.Ports
	// Locks is Ports.Locks as its concrete type, for Leases().
	Locks *locks.Memory
	// Clock is Ports.Clock as a fake clock: Advance moves time.
	Clock *clockwork.FakeClock
}

// CreateTestPorts returns ports on in-memory locks and a fake clock, logging
// through t. Stop every goroutine that logs before the test ends: zaptest
// fails a test that is logged to after it finished.
func CreateTestPorts(t testing.TB) *TestPorts {
	t.Helper()
	clock := clockwork.NewFakeClock()
	mem := locks.NewMemory(locks.WithClock(clock))
	return &TestPorts{
		Ports: &ctx.Ports{
			Locks:  mem,
			Clock:  clock,
			Logger: zaptest.NewLogger(t),
		},
		Locks: mem,
		Clock: clock,
	}
}

// Context returns a handler context over these ports for t, cancelled when
// the test ends.
func (p *TestPorts) Context(t testing.TB) *ctx.Context {
	return ctx.New(t.Context(), p.Ports)
}
