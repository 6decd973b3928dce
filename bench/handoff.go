package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// measureHandoff times release-to-waiter-holding. The waiter uses each
// library's recommended waiting; the holder releases at a random moment in
// the 100 ms after the waiter's first failed attempt, so polling libraries
// are caught at every phase of their interval.
func measureHandoff(r *results, addr string, runs, rounds int) error {
	for run := 0; run < runs; run++ {
		per := map[string][]time.Duration{}
		holderC, waiterC := newClient(addr, 8), newClient(addr, 8)
		counter := &cmdCounter{}
		waiterC.AddHook(counter)
		mk := func(c *redis.Client) []peer {
			return []peer{beignetPeer(c, "ho:b:"), redsyncPeer(c, "ho:rs:"),
				redislockPeer(c, "ho:rl100:", 100*time.Millisecond), redislockPeer(c, "ho:rl10:", 10*time.Millisecond)}
		}
		holders, waiters := mk(holderC), mk(waiterC)
		for i := range holders {
			lat, err := handoffs(holders[i], waiters[i], counter, rounds)
			if err != nil {
				return fmt.Errorf("%s: %w", holders[i].name, err)
			}
			per[holders[i].name] = lat
			r.add("ho50/"+holders[i].name, ms(pct(lat, 50)))
			r.add("ho99/"+holders[i].name, ms(pct(lat, 99)))
			r.add("homax/"+holders[i].name, ms(lat[len(lat)-1]))
		}
		for name, lat := range per {
			if name != "beignet" {
				r.add("horatio/"+name, float64(pct(lat, 50))/float64(pct(per["beignet"], 50)))
			}
		}
		holderC.Close()
		waiterC.Close()
	}
	return nil
}

func handoffs(holder, waiter peer, counter *cmdCounter, rounds int) ([]time.Duration, error) {
	ctx := context.Background()
	lat := make([]time.Duration, 0, rounds)
	for i := 0; i < rounds; i++ {
		release, err := holder.acquire(ctx, "hot", false)
		if err != nil {
			return nil, fmt.Errorf("holder: %w", err)
		}
		before := counter.n.Load()
		got := make(chan struct {
			at      time.Time
			release func()
			err     error
		}, 1)
		go func() {
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			rel, err := waiter.acquire(wctx, "hot", true)
			got <- struct {
				at      time.Time
				release func()
				err     error
			}{time.Now(), rel, err}
		}()
		// The waiter has tried once and is now waiting (subscribed, or
		// in its backoff).
		for counter.n.Load() < before+2 {
			time.Sleep(100 * time.Microsecond)
		}
		time.Sleep(rand.N(100 * time.Millisecond))
		released := time.Now()
		release()
		g := <-got
		if g.err != nil {
			return nil, fmt.Errorf("waiter: %w", g.err)
		}
		lat = append(lat, g.at.Sub(released))
		g.release()
	}
	slices.Sort(lat)
	return lat, nil
}

// cmdCounter counts commands a client sends.
type cmdCounter struct{ n atomic.Int64 }

func (c *cmdCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *cmdCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c *cmdCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

func pct(sorted []time.Duration, p int) time.Duration { return sorted[(len(sorted)-1)*p/100] }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
