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
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
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
	only := flag.String("only", "", "measure only these sections (comma-separated: "+strings.Join(sectionNames, ",")+
		") and print their raw figures instead of the report; refuses -out, so docs/benchmarks.md is never half a run")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (harness, clients and schedulers) here")
	flag.Parse()
	if err := run(*runs, *dur, *rounds, *ticks, *fleetSecs, *note, *out, *only, *cpuProfile); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// sectionNames are the sections -only selects, in the order they run.
var sectionNames = []string{"throughput", "handoff", "commands", "exactlyonce", "waiters", "redismemory", "fleet", "memory"}

func run(runs int, dur time.Duration, rounds, ticks, fleetSecs int, note, out, only, cpuProfile string) error {
	want := func(string) bool { return true }
	if only != "" {
		if out != "" {
			return fmt.Errorf("-only %q with -out %q: a partial run must not rewrite the report", only, out)
		}
		picked := strings.Split(only, ",")
		for _, p := range picked {
			if !slices.Contains(sectionNames, p) {
				return fmt.Errorf("-only: unknown section %q (want some of %s)", p, strings.Join(sectionNames, ","))
			}
		}
		want = func(s string) bool { return slices.Contains(picked, s) }
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	srv, err := startRedis()
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Fprintf(os.Stderr, "bench: private redis-server on %s, %d runs per figure\n", srv.addr, runs)

	r := &results{}
	steps := []struct {
		name, what string
		fn         func() error
	}{
		{"throughput", "throughput", func() error { return measureThroughput(r, srv.addr, runs, dur) }},
		{"handoff", "hand-off latency", func() error { return measureHandoff(r, srv.addr, runs, rounds) }},
		{"commands", "commands per operation", func() error { return measureCommands(r, srv.addr) }},
		{"exactlyonce", "exactly once per tick", func() error { return measureExactlyOnce(r, srv.addr, runs, ticks) }},
		{"waiters", "1,000 waiters", func() error { return measureWaiters(r, srv.addr) }},
		{"redismemory", "Redis memory per lease", func() error { return measureRedisMemory(r, srv.addr) }},
		{"fleet", "scheduler at scale", func() error {
			if fleetSecs <= 0 {
				return nil
			}
			return measureFleet(r, srv.addr, runs, fleetSecs)
		}},
		{"memory", "memory adapter", func() error { measureMemory(r, runs); return nil }},
	}
	for _, st := range steps {
		if !want(st.name) {
			continue
		}
		fmt.Fprintln(os.Stderr, "bench:", st.what)
		if err := st.fn(); err != nil {
			return err
		}
	}
	if only != "" {
		fmt.Print(r.raw())
		return nil
	}

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
