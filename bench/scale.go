package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
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
		for i := 0; i < fleetInstances; i++ {
			c := newClient(addr, 10)
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
		from := time.Now()
		<-time.After(time.Duration(secs+3) * time.Second)
		to := time.Now()
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
	}
	return nil
}
