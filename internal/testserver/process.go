// Package testserver runs the throwaway server processes that tests talk to
// (redis-server, PostgreSQL): each on a free loopback port, killed with the
// test binary, and, for the servers a package's tests share, stopped once
// that package's tests have run. Tests never depend on a server that the
// machine happens to run, nor touch one.
//
// Every package whose tests use a shared server wraps its TestMain:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(testserver.Main(m)) }
package testserver

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ErrMissing is wrapped by the error of a server whose binary is not
// installed; its message says what to install.
var ErrMissing = errors.New("not installed")

// Require skips the test under -short: go test -short runs only what needs
// no server.
func Require(t testing.TB, server string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs %s (skipped with -short)", server)
	}
}

// LookPath finds binary on PATH or in dirs, or returns an error wrapping
// ErrMissing that names the package to install.
func LookPath(binary, pkg string, dirs ...string) (string, error) {
	if p, err := exec.LookPath(binary); err == nil {
		return p, nil
	}
	for _, d := range dirs {
		p := d + string(os.PathSeparator) + binary
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s %w: install %s (Debian/Ubuntu: apt-get install %s)", binary, ErrMissing, pkg, pkg)
}

// FreePort returns a loopback port nothing listens on right now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Process is one server process.
type Process struct {
	name string
	cmd  *exec.Cmd
	out  *bytes.Buffer // what it printed, for the error when it dies at start
	done chan struct{}
}

// Start runs path with args, as cred's user when cred is set. The process
// gets SIGKILL when the test binary dies: a timeout's panic skips every
// cleanup, and a server must not outlive the tests it served.
func Start(path string, args []string, cred *syscall.Credential) (*Process, error) {
	cmd := exec.Command(path, args...)
	// Go sets the parent-death signal after the credentials, which would
	// otherwise clear it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: cred}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	p := &Process{name: path, cmd: cmd, out: &out, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// WaitReady calls ready until it succeeds, the process exits or timeout
// passes. Polling is the only way to learn that another process is
// listening.
func (p *Process) WaitReady(timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			p.Stop(syscall.SIGKILL)
			return fmt.Errorf("%s not ready after %v: %w", p.name, timeout, err)
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited at start: %s", p.name, strings.TrimSpace(p.out.String()))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Stop sends sig and waits for the process to exit.
func (p *Process) Stop(sig os.Signal) {
	_ = p.cmd.Process.Signal(sig)
	<-p.done
}

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.done }
