package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// SentinelMaster is the master name StartSentinels monitors.
const SentinelMaster = "beignet"

// StartSentinels runs n Redis Sentinels on loopback that monitor the master
// at masterAddr under SentinelMaster, with a quorum of n/2+1 and a master
// declared down after downAfter. They stop when the test ends. It returns
// their addresses.
func StartSentinels(t testing.TB, n int, masterAddr string, downAfter time.Duration) []string {
	t.Helper()
	host, port, err := net.SplitHostPort(masterAddr)
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for i := 0; i < n; i++ {
		p := FreePort(t)
		dir := t.TempDir()
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"+
			"sentinel monitor %s %s %s %d\n"+
			"sentinel down-after-milliseconds %s %d\n"+
			"sentinel failover-timeout %s 10000\n"+
			"sentinel parallel-syncs %s 1\n",
			p, dir, filepath.Join(dir, "sentinel.log"),
			SentinelMaster, host, port, n/2+1,
			SentinelMaster, downAfter.Milliseconds(), SentinelMaster, SentinelMaster)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("redis-server", conf, "--sentinel")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start sentinel: %v", err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
		addr := "127.0.0.1:" + strconv.Itoa(p)
		s := SentinelClientFor(addr)
		deadline := time.Now().Add(10 * time.Second)
		for s.Ping(context.Background()).Err() != nil {
			if time.Now().After(deadline) {
				s.Close()
				t.Fatalf("sentinel on %s did not come up", addr)
			}
			select {
			case <-done:
				s.Close()
				t.Fatalf("sentinel on %s exited at start", addr)
			case <-time.After(10 * time.Millisecond):
			}
		}
		s.Close()
		addrs = append(addrs, addr)
	}
	return addrs
}

// FailoverClient returns a client that finds the master through the
// sentinels at addrs; the caller closes it.
func FailoverClient(addrs []string) *redis.Client {
	return redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    SentinelMaster,
		SentinelAddrs: addrs,
	})
}

// SentinelClientFor returns a client of the sentinel at addr; the caller
// closes it.
func SentinelClientFor(addr string) *redis.SentinelClient {
	return redis.NewSentinelClient(&redis.Options{Addr: addr, MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
}
