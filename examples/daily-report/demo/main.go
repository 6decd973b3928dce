// Command demo runs three instances of the daily-report example against one
// Redis with an every-second schedule, then prints which instance ran each
// tick and how many ticks ran twice or not at all. `make demo` runs it.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/internal/testserver"
)

func main() {
	instances := flag.Int("instances", 3, "how many instances to run")
	dur := flag.Duration("for", 20*time.Second, "how long to run them")
	redisURL := flag.String("redis", "", "Redis they share (default: a private redis-server the demo starts, on a free port)")
	flag.Parse()
	if err := run(*instances, *dur, *redisURL); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// runLine is the part of a scheduler "run" log line the demo reads.
type runLine struct {
	Msg      string `json:"msg"`
	Schedule string `json:"schedule"`
	Tick     string `json:"tick"`
	Instance string `json:"instance"`
	Outcome  string `json:"outcome"`
	Token    uint64 `json:"fencing_token"`
}

func run(n int, dur time.Duration, redisURL string) error {
	dir, err := os.MkdirTemp("", "beignet-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if redisURL == "" {
		port, err := testserver.FreePort()
		if err != nil {
			return err
		}
		srv, err := redistest.Run(port, dir)
		if err != nil {
			return err
		}
		defer srv.Stop(syscall.SIGKILL)
		redisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
		fmt.Printf("demo: a private redis-server on 127.0.0.1:%d\n", port)
	}
	bin := filepath.Join(dir, "daily-report")
	build := exec.Command("go", "build", "-o", bin, "./examples/daily-report")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}

	prefix := "beignet-demo:" + strings.ToLower(rand.Text()[:8])
	defer cleanup(redisURL, prefix)
	env := append(os.Environ(),
		"REDIS_LOCKS_URL="+redisURL,
		"REDIS_LOCKS_PREFIX="+prefix,
		"DATABASE_URL=", // the demo is about locks: keep data in memory
		"REPORT_SCHEDULE=* * * * * *",
		"RENDER_SCHEDULE=0 0 1 1 *",
		"BEIGNET_LOG_FORMAT=json",
		"BEIGNET_HTTP_ADDR=127.0.0.1:0", // three instances, one host
	)

	var mu sync.Mutex
	runs := map[string][]string{} // tick -> instances that ran it
	var procs []*exec.Cmd
	var readers sync.WaitGroup
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("instance-%d", i)
		cmd := exec.Command(bin, "-instance", id)
		cmd.Env = env
		stderr, err := cmd.StderrPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start %s: %w", id, err)
		}
		procs = append(procs, cmd)
		readers.Add(1)
		go func(r io.Reader) {
			defer readers.Done()
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				var l runLine
				if json.Unmarshal(sc.Bytes(), &l) != nil || l.Msg != "run" || l.Schedule != "daily-report" {
					continue
				}
				if l.Outcome != "ran" {
					fmt.Printf("  %s %s: %s\n", l.Instance, l.Tick, l.Outcome)
					continue
				}
				mu.Lock()
				runs[l.Tick] = append(runs[l.Tick], l.Instance)
				mu.Unlock()
			}
		}(stderr)
	}
	fmt.Printf("demo: %d instances on %s (prefix %s), every-second schedule, for %v\n", n, redisURL, prefix, dur)

	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt, syscall.SIGTERM)
	select {
	case <-time.After(dur):
	case <-interrupted:
	}
	for _, p := range procs {
		_ = p.Process.Signal(os.Interrupt)
	}
	for _, p := range procs {
		_ = p.Wait()
	}
	readers.Wait()
	return report(runs)
}

func report(runs map[string][]string) error {
	ticks := make([]time.Time, 0, len(runs))
	byTime := map[time.Time][]string{}
	for s, who := range runs {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("tick %q: %w", s, err)
		}
		ticks = append(ticks, t)
		byTime[t] = append(byTime[t], who...)
	}
	if len(ticks) == 0 {
		return fmt.Errorf("no runs observed")
	}
	slices.SortFunc(ticks, func(a, b time.Time) int { return a.Compare(b) })
	fmt.Printf("\n%-26s %s\n", "tick", "ran on")
	dups, misses := 0, 0
	for t := ticks[0]; !t.After(ticks[len(ticks)-1]); t = t.Add(time.Second) {
		who := byTime[t]
		switch {
		case len(who) == 0:
			misses++
			fmt.Printf("%-26s MISSED\n", t.Format(time.RFC3339))
		case len(who) > 1:
			dups += len(who) - 1
			fmt.Printf("%-26s %s  DUPLICATE\n", t.Format(time.RFC3339), strings.Join(who, ", "))
		default:
			fmt.Printf("%-26s %s\n", t.Format(time.RFC3339), who[0])
		}
	}
	fmt.Printf("\nticks: %d, duplicates: %d, misses: %d\n", len(ticks)+misses, dups, misses)
	if dups != 0 || misses != 0 {
		return fmt.Errorf("%d duplicates and %d misses", dups, misses)
	}
	return nil
}

// cleanup deletes the demo's keys, and nothing else.
func cleanup(redisURL, prefix string) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return
	}
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, "{"+prefix+"|*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}
