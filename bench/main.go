// Command bench compares Beignet with what users would pick instead:
// go-redsync/redsync, bsm/redislock, a bare go-redis baseline (SET NX PX plus
// a compare-and-delete script), and gocron v2 with a redsync locker, on one
// private redis-server, and writes the table to docs/benchmarks.md.
//
//	make bench-compare
//
// It is its own module so the library never depends on its peers.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

func main() {
	runs := flag.Int("runs", 5, "runs per figure; each figure is their median")
	dur := flag.Duration("dur", 2*time.Second, "duration of each throughput run")
	rounds := flag.Int("rounds", 200, "hand-off rounds per run")
	ticks := flag.Int("ticks", 60, "ticks per exactly-once run")
	fleetSecs := flag.Int("fleet", 20, "seconds per scheduler-at-scale run (0 skips it)")
	flag.IntVar(&fleetSchedules, "fleet-schedules", fleetSchedules, "schedules per instance in the scheduler-at-scale run")
	note := flag.String("note", "", "conditions of the run, printed under the machine line")
	out := flag.String("out", "", "write the markdown report here as well as to stdout")
	flag.Parse()
	if err := run(*runs, *dur, *rounds, *ticks, *fleetSecs, *note, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(runs int, dur time.Duration, rounds, ticks, fleetSecs int, note, out string) error {
	srv, err := startRedis()
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Fprintf(os.Stderr, "bench: private redis-server on %s, %d runs per figure\n", srv.addr, runs)

	r := &results{}
	fmt.Fprintln(os.Stderr, "bench: throughput")
	if err := measureThroughput(r, srv.addr, runs, dur); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "bench: hand-off latency")
	if err := measureHandoff(r, srv.addr, runs, rounds); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "bench: commands per operation")
	if err := measureCommands(r, srv.addr); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "bench: exactly once per tick")
	if err := measureExactlyOnce(r, srv.addr, runs, ticks); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "bench: 1,000 waiters")
	if err := measureWaiters(r, srv.addr); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "bench: Redis memory per lease")
	if err := measureRedisMemory(r, srv.addr); err != nil {
		return err
	}
	if fleetSecs > 0 {
		fmt.Fprintln(os.Stderr, "bench: scheduler at scale")
		if err := measureFleet(r, srv.addr, runs, fleetSecs); err != nil {
			return err
		}
	}
	fmt.Fprintln(os.Stderr, "bench: memory adapter")
	measureMemory(r, runs)

	md := r.markdown(runs, dur, rounds, ticks, fleetSecs, note, srv.version)
	fmt.Print(md)
	if out != "" {
		return os.WriteFile(out, []byte(md), 0o644)
	}
	return nil
}

// server is the private redis-server every peer shares, so figures are
// comparable and INFO commandstats can be reset freely.
type server struct {
	addr, version string
	cmd           *exec.Cmd
	dir           string
}

func startRedis() (*server, error) {
	dir, err := os.MkdirTemp("", "beignet-bench")
	if err != nil {
		return nil, err
	}
	port := 20000 + os.Getpid()%20000
	s := &server{addr: "127.0.0.1:" + strconv.Itoa(port), dir: dir}
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	c := newClient(s.addr, 4)
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("redis-server on %s did not come up", s.addr)
		}
		time.Sleep(20 * time.Millisecond) // polling a server's start-up, outside any measurement
	}
	info, _ := c.Info(context.Background(), "server").Result()
	s.version = field(info, "redis_version")
	return s, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	_ = os.RemoveAll(s.dir)
}

func newClient(addr string, pool int) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: addr, PoolSize: pool,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
}
