// Package redistest runs the redis-server processes tests talk to: one
// shared by a package's tests (SharedClient, SharedAddr), and private ones
// for tests that must stop, restart or cluster a server (Start,
// StartCluster). Each runs on a free loopback port and dies with the test
// binary; no test touches a Redis it did not start unless REDIS_TEST_URL
// points at one. See internal/testserver for the TestMain hook.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/beignet-go/beignet/internal/testserver"
)

// Server is one redis-server process owned by a test.
type Server struct {
	t testing.TB
	// Port is the loopback port the server listens on.
	Port int
	dir  string
	args []string
	proc *testserver.Process
}

// Addr is the server's loopback address.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// FreePort returns a loopback port nothing listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := testserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// Start runs redis-server without persistence on a free port, with extra
// args, and stops it when the test ends. Under -short it skips the test.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	testserver.Require(t, "redis-server")
	s := &Server{t: t, Port: FreePort(t), dir: t.TempDir(), args: extra}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	proc, err := startRedis(s.Port, s.dir, s.args...)
	if err != nil {
		s.t.Fatal(err)
	}
	s.proc = proc
}

// Run starts a redis-server without persistence on port, with dir for its
// files, and waits until it accepts connections; the caller stops it. It is
// for programs, such as the demo, that need a throwaway Redis outside a test.
func Run(port int, dir string, extra ...string) (*testserver.Process, error) {
	return startRedis(port, dir, extra...)
}

// startRedis runs redis-server on port, with dir for its files, and waits
// until it accepts connections.
func startRedis(port int, dir string, extra ...string) (*testserver.Process, error) {
	bin, err := testserver.LookPath("redis-server", "redis-server")
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log"),
	}, extra...)
	proc, err := testserver.Start(bin, args, nil)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	// A plain dial, not a go-redis PING: go-redis would log every refusal
	// while the server comes up.
	err = proc.WaitReady(10*time.Second, func() error {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("redis-server on %s: %w", addr, err)
	}
	return proc, nil
}

// Client returns a new client of this server; the caller closes it.
func (s *Server) Client() *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:                     s.Addr(),
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
}

// Stop kills the server and waits for it to exit. Its data is gone.
func (s *Server) Stop() {
	if s.proc == nil {
		return
	}
	s.proc.Stop(syscall.SIGKILL)
	s.proc = nil
}

// Resume starts a stopped server again on the same port, empty.
func (s *Server) Resume() {
	s.t.Helper()
	s.start()
}

// Restart stops the server and starts it again on the same port, empty.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// StartCluster runs a Redis Cluster of n masters (no replicas) on loopback
// and returns its nodes' addresses. The nodes stop when the test ends.
func StartCluster(t testing.TB, n int) []string {
	t.Helper()
	testserver.Require(t, "redis-server")
	var addrs []string
	for i := 0; i < n; i++ {
		s := Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000")
		addrs = append(addrs, s.Addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	cli, err := testserver.LookPath("redis-cli", "redis-tools")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	// Slots are assigned; wait until every node agrees the cluster is up.
	deadline := time.Now().Add(20 * time.Second)
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
		for {
			info, err := c.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				c.Close()
				t.Fatalf("cluster node %s not ok: %v %s", a, err, info)
			}
			<-time.After(50 * time.Millisecond)
		}
		c.Close()
	}
	return addrs
}

// ClusterClient returns a client of the cluster at addrs; the caller closes
// it.
func ClusterClient(addrs []string) *redis.ClusterClient {
	return redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                    addrs,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
}
