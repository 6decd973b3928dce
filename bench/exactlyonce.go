package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// Five instances, clocks offset from -400 ms to +400 ms, each with its own
// Redis client, an every-second schedule and a 1 ms job.
var offsets = []time.Duration{-400 * time.Millisecond, -200 * time.Millisecond, 0, 200 * time.Millisecond, 400 * time.Millisecond}

type shifted struct {
	clockwork.Clock
	off time.Duration
}

func (c shifted) Now() time.Time                  { return c.Clock.Now().Add(c.off) }
func (c shifted) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c shifted) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

// tally counts runs per tick.
type tally struct {
	mu   sync.Mutex
	runs map[time.Time]int
}

func (t *tally) add(tick time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.runs[tick]++
}

// count reports duplicates and misses over the ticks strictly between the
// first and last seconds of the window, which every instance covered.
func (t *tally) count(from, to time.Time) (ticks, dups, misses int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for tick := from.Truncate(time.Second).Add(2 * time.Second); tick.Before(to.Truncate(time.Second).Add(-time.Second)); tick = tick.Add(time.Second) {
		ticks++
		switch n := t.runs[tick]; {
		case n == 0:
			misses++
		case n > 1:
			dups += n - 1
		}
	}
	return
}

// measureExactlyOnce runs Beignet's scheduler and gocron v2 with a redsync
// locker side by side. The runs of one measurement execute concurrently, on
// distinct keys, to keep the wall time to one window.
func measureExactlyOnce(r *results, addr string, runs, ticks int) error {
	type fleet struct{ ours, theirs *tally }
	fleets := make([]fleet, runs)
	var stops []func()
	for i := range fleets {
		fleets[i] = fleet{&tally{runs: map[time.Time]int{}}, &tally{runs: map[time.Time]int{}}}
		for _, off := range offsets {
			stop, err := startOurs(addr, fmt.Sprintf("eo%d", i), off, fleets[i].ours)
			if err != nil {
				return err
			}
			stops = append(stops, stop)
			stop, err = startGocron(addr, fmt.Sprintf("eo%d", i), off, fleets[i].theirs)
			if err != nil {
				return err
			}
			stops = append(stops, stop)
		}
	}
	from := time.Now()
	<-time.After(time.Duration(ticks+3) * time.Second)
	to := time.Now()
	for _, stop := range stops {
		stop()
	}
	for _, f := range fleets {
		n, d, m := f.ours.count(from, to)
		r.add("eoticks", float64(n))
		r.add("eodup/beignet", float64(d))
		r.add("eomiss/beignet", float64(m))
		_, d, m = f.theirs.count(from, to)
		r.add("eodup/gocron+redsync", float64(d))
		r.add("eomiss/gocron+redsync", float64(m))
	}
	return nil
}

func startOurs(addr, prefix string, off time.Duration, t *tally) (func(), error) {
	c := newClient(addr, 4)
	ports := &ctx.Ports{Locks: redislocks.New(c, prefix), Ledger: redislocks.NewLedger(c, prefix), Clock: shifted{clockwork.NewRealClock(), off}, Logger: zap.NewNop()}
	s := scheduler.New(ports)
	err := s.Add("every-second", "* * * * * *", func(c *ctx.Context) error {
		run, _ := scheduler.RunFrom(c)
		t.add(run.Tick)
		time.Sleep(time.Millisecond) // the 1 ms job
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return func() { _ = s.Stop(context.Background()); _ = c.Close() }, nil
}

// redsyncLocker is a gocron Locker shaped like gocron-redis-lock: one try
// per run, locked by job name, unlocked when the job returns.
type redsyncLocker struct{ rs *redsync.Redsync }

func (l redsyncLocker) Lock(ctx context.Context, key string) (gocron.Lock, error) {
	m := l.rs.NewMutex(key, redsync.WithTries(1))
	if err := m.LockContext(ctx); err != nil {
		return nil, err
	}
	return redsyncLock{m}, nil
}

type redsyncLock struct{ m *redsync.Mutex }

func (l redsyncLock) Unlock(ctx context.Context) error {
	_, err := l.m.UnlockContext(ctx)
	return err
}

func startGocron(addr, prefix string, off time.Duration, t *tally) (func(), error) {
	c := newClient(addr, 4)
	clock := shifted{clockwork.NewRealClock(), off}
	s, err := gocron.NewScheduler(gocron.WithClock(clock), gocron.WithDistributedLocker(redsyncLocker{redsync.New(goredis.NewPool(c))}))
	if err != nil {
		return nil, err
	}
	_, err = s.NewJob(gocron.CronJob("* * * * * *", true), gocron.NewTask(func() {
		// gocron does not tell a job its scheduled time; the instance's
		// own clock, rounded, names the tick it is running.
		t.add(clock.Now().Round(time.Second))
		time.Sleep(time.Millisecond)
	}), gocron.WithName(prefix+":every-second"))
	if err != nil {
		return nil, err
	}
	s.Start()
	return func() { _ = s.Shutdown(); _ = c.Close() }, nil
}
