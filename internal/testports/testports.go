// Package testports is the in-repo name for beignettest, so the project's
// own tests read testports.CreateTestPorts(t), while apps in other modules
// import beignettest directly.
package testports

import (
	"testing"

	"github.com/beignet-go/beignet/beignettest"
)

// TestPorts are the ports of one test; see beignettest.TestPorts.
type TestPorts = beignettest.TestPorts

// Option configures CreateTestPorts; see beignettest.Option.
type Option = beignettest.Option

// CreateTestPorts returns in-memory locks on a fake clock; see
// beignettest.CreateTestPorts.
func CreateTestPorts(t testing.TB, opts ...Option) *TestPorts {
	t.Helper()
	return beignettest.CreateTestPorts(t, opts...)
}
