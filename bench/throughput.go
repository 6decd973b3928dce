package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var concurrencies = []int{1, 32, 64}

// measureThroughput counts acquire+release pairs per second on distinct
// keys (one per goroutine). In each run every peer runs back to back on the
// same server, so a run's ratios compare like with like.
func measureThroughput(r *results, addr string, runs int, dur time.Duration) error {
	c := newClient(addr, 64)
	defer c.Close()
	peers := []peer{beignetPeer(c, "tp:b:"), redsyncPeer(c, "tp:rs:"), redislockPeer(c, "tp:rl:", 0), baselinePeer(c, "tp:base:")}
	for run := 0; run < runs; run++ {
		for _, n := range concurrencies {
			per := map[string]float64{}
			for _, p := range peers {
				v, err := pairsPerSecond(p, n, dur)
				if err != nil {
					return fmt.Errorf("%s with %d goroutines: %w", p.name, n, err)
				}
				per[p.name] = v
				r.add(fmt.Sprintf("tp/%d/%s", n, p.name), v)
			}
			for _, p := range peers[1:] {
				r.add(fmt.Sprintf("tpratio/%d/%s", n, p.name), per["beignet"]/per[p.name])
			}
		}
	}
	return nil
}

func pairsPerSecond(p peer, n int, dur time.Duration) (float64, error) {
	ctx := context.Background()
	var total atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(key string) {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := p.pair(ctx, key); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				total.Add(1)
			}
		}("key" + strconv.Itoa(i))
	}
	start := time.Now()
	<-time.After(dur)
	close(stop)
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(total.Load()) / time.Since(start).Seconds(), nil
}
