package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// Scheduler at scale: fleetSchedules `@every 1s` schedules (the
// -fleet-schedules flag) on each of fleetInstances schedulers in one
// process, one Redis client each.
const fleetInstances = 3

var fleetSchedules = 5000

// tripCounter counts a client's round trips (a command alone, or a
// pipeline) and the commands they carry.
type tripCounter struct{ trips, cmds atomic.Int64 }

func (c *tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.trips.Add(1)
		c.cmds.Add(1)
		return next(ctx, cmd)
	}
}
func (c *tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.trips.Add(1)
		c.cmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// fleetTally records every run's tick lag and how often each (schedule,
// tick) ran.
type fleetTally struct {
	mu   sync.Mutex
	lags []time.Duration
	runs map[string]map[time.Time]int
}

func (t *fleetTally) add(name string, tick time.Time, lag time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.runs[name] == nil {
		t.runs[name] = map[time.Time]int{}
	}
	t.runs[name][tick]++
	t.lags = append(t.lags, lag)
}

// measureFleet runs fleetInstances schedulers with fleetSchedules
// every-second schedules each, for secs seconds, and reports tick lag (tick
// to handler start) and duplicates and misses over the ticks every instance
// fully covered.
func measureFleet(r *results, addr string, runs, secs int) error {
	for run := 0; run < runs; run++ {
		t := &fleetTally{runs: map[string]map[time.Time]int{}}
		prefix := "fleet" + strconv.Itoa(run)
		var stops []func()
		counter := &tripCounter{}
		for i := 0; i < fleetInstances; i++ {
			c := newClient(addr, 10)
			c.AddHook(counter)
			s := scheduler.New(&ctx.Ports{Locks: redislocks.New(c, prefix), Ledger: redislocks.NewLedger(c, prefix), Clock: clockwork.NewRealClock(), Logger: zap.NewNop()})
			for n := 0; n < fleetSchedules; n++ {
				name := "s" + strconv.Itoa(n)
				err := s.Add(name, "@every 1s", func(c *ctx.Context) error {
					started := time.Now()
					run, _ := scheduler.RunFrom(c)
					t.add(name, run.Tick, started.Sub(run.Tick))
					return nil
				})
				if err != nil {
					return err
				}
			}
			if err := s.Start(); err != nil {
				return err
			}
			stops = append(stops, func() { _ = s.Stop(context.Background()); _ = c.Close() })
		}
		admin := newClient(addr, 1)
		from := time.Now()
		trips0, cmds0 := counter.trips.Load(), counter.cmds.Load()
		cpu0, scripts0, scriptUs0 := redisCPU(admin)
		<-time.After(time.Duration(secs+3) * time.Second)
		to := time.Now()
		trips, cmds := counter.trips.Load()-trips0, counter.cmds.Load()-cmds0
		cpu1, scripts1, scriptUs1 := redisCPU(admin)
		_ = admin.Close()
		for _, stop := range stops {
			stop()
		}
		t.mu.Lock()
		var ticks, dups, misses int
		for tick := from.Truncate(time.Second).Add(2 * time.Second); tick.Before(to.Truncate(time.Second).Add(-time.Second)); tick = tick.Add(time.Second) {
			for n := 0; n < fleetSchedules; n++ {
				ticks++
				switch k := t.runs["s"+strconv.Itoa(n)][tick]; {
				case k == 0:
					misses++
				case k > 1:
					dups += k - 1
				}
			}
		}
		lags := t.lags
		t.mu.Unlock()
		if len(lags) == 0 {
			return fmt.Errorf("scheduler at scale: no run at all")
		}
		slices.Sort(lags)
		r.add("fleet/ticks", float64(ticks))
		r.add("fleet/dups", float64(dups))
		r.add("fleet/misses", float64(misses))
		r.add("fleet/p50", ms(pct(lags, 50)))
		r.add("fleet/p99", ms(pct(lags, 99)))
		// Per schedule and second, on each instance: how many times it
		// went to Redis, and how many commands (scripts mostly) it sent.
		per := to.Sub(from).Seconds() * float64(fleetSchedules*fleetInstances)
		r.add("fleet/trips", float64(trips)/per)
		r.add("fleet/cmds", float64(cmds)/per)
		// How busy Redis was (share of one core), and what a script cost
		// it: whether the server or the clients set the pace.
		r.add("fleet/rediscpu", (cpu1-cpu0)/to.Sub(from).Seconds())
		if scripts1 > scripts0 {
			r.add("fleet/scriptus", (scriptUs1-scriptUs0)/(scripts1-scripts0))
		}
	}
	return nil
}

// redisCPU reads the server's CPU seconds so far (user and system), and
// how many scripts it ran and the µs they took (EVALSHA and EVAL).
func redisCPU(c *redis.Client) (cpu, scripts, scriptUs float64) {
	ctx := context.Background()
	info, err := c.Info(ctx, "cpu", "commandstats").Result()
	if err != nil {
		return 0, 0, 0
	}
	for _, f := range []string{"used_cpu_user", "used_cpu_sys"} {
		v, _ := strconv.ParseFloat(field(info, f), 64)
		cpu += v
	}
	for _, cmd := range []string{"cmdstat_evalsha", "cmdstat_eval"} {
		stat := field(info, cmd)
		for _, kv := range strings.Split(stat, ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.ParseFloat(v, 64)
			switch k {
			case "calls":
				scripts += n
			case "usec":
				scriptUs += n
			}
		}
	}
	return cpu, scripts, scriptUs
}
