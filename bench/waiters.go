package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

const waiterCount = 1000

// measureWaiters parks waiterCount Beignet waiters on distinct held keys
// and reports the connections they add, then releases one key and counts
// the script runs that follow: the release and its one waiter's retry if
// only that key's waiter woke.
func measureWaiters(r *results, addr string) error {
	ctx := context.Background()
	admin := newClient(addr, 2)
	defer admin.Close()
	c := newClient(addr, 64)
	defer c.Close()
	l := redislocks.New(c, "waiters")
	if err := l.Preload(ctx); err != nil {
		return err
	}
	held := make([]locks.Lease, waiterCount)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for i := range held {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := l.Acquire(ctx, "k"+strconv.Itoa(i), locks.Options{TTL: time.Minute})
			mu.Lock()
			defer mu.Unlock()
			if err != nil || !res.Acquired {
				firstErr = fmt.Errorf("holder %d: %v, %v", i, res.Acquired, err)
				return
			}
			held[i] = res.Lease
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	// The admin client checks the leases below with a pipeline, which
	// go-redis sends on a connection of its own pipeline pool: open it
	// now, so that it is not counted as the waiters'.
	_ = allMarked(ctx, admin, l, 1)
	before := infoField(ctx, admin, "clients", "connected_clients")
	done := make(chan locks.Result, waiterCount)
	for i := 0; i < waiterCount; i++ {
		go func() {
			res, _ := l.Acquire(ctx, "k"+strconv.Itoa(i), locks.Options{TTL: time.Minute, Wait: time.Minute})
			done <- res
		}()
	}
	// Every waiter has retried once subscribed when every lease is marked.
	deadline := time.Now().Add(time.Minute)
	for !allMarked(ctx, admin, l, waiterCount) {
		if time.Now().After(deadline) {
			return fmt.Errorf("waiters did not settle")
		}
		<-time.After(20 * time.Millisecond)
	}
	during := infoField(ctx, admin, "clients", "connected_clients")
	r.add("waiters/extra", float64(during-before))

	scripts := func() int {
		return infoCalls(ctx, admin, "evalsha") + infoCalls(ctx, admin, "eval")
	}
	s0 := scripts()
	if err := held[0].Release(ctx); err != nil {
		return err
	}
	first := <-done
	r.add("waiters/scripts", float64(scripts()-s0))
	_ = first.Lease.Release(ctx)
	for _, h := range held[1:] {
		_ = h.Release(ctx)
	}
	for i := 1; i < waiterCount; i++ {
		if res := <-done; res.Acquired {
			_ = res.Lease.Release(ctx)
		}
	}
	return nil
}

func allMarked(ctx context.Context, c *redis.Client, l *redislocks.Locks, n int) bool {
	cmds, _ := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := 0; i < n; i++ {
			p.HExists(ctx, l.LeaseKey("k"+strconv.Itoa(i)), "w")
		}
		return nil
	})
	for _, cmd := range cmds {
		if !cmd.(*redis.BoolCmd).Val() {
			return false
		}
	}
	return true
}

func infoField(ctx context.Context, c *redis.Client, section, name string) int {
	info, _ := c.Info(ctx, section).Result()
	n, _ := strconv.Atoi(field(info, name))
	return n
}

func infoCalls(ctx context.Context, c *redis.Client, cmd string) int {
	info, _ := c.Info(ctx, "commandstats").Result()
	_, rest, ok := strings.Cut(info, "cmdstat_"+cmd+":calls=")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
	return n
}

// measureRedisMemory reports MEMORY USAGE of one held lease (its hash and
// its fence counter), and of what an idle key keeps after release (the
// fence counter alone, until FenceTTL).
func measureRedisMemory(r *results, addr string) error {
	ctx := context.Background()
	c := newClient(addr, 2)
	defer c.Close()
	l := redislocks.New(c, "mem")
	res, err := l.Acquire(ctx, "schedule:daily-report", locks.Options{TTL: time.Minute, Metadata: map[string]string{"instance": "host-1"}})
	if err != nil || !res.Acquired {
		return fmt.Errorf("memory: %v, %v", res.Acquired, err)
	}
	lease := l.LeaseKey("schedule:daily-report")
	usage := func(k string) int64 { n, _ := c.MemoryUsage(ctx, k).Result(); return n }
	r.add("mem/held", float64(usage(lease)+usage(lease+":fence")))
	if err := res.Lease.Release(ctx); err != nil {
		return err
	}
	keys, _ := c.Keys(ctx, "{mem*").Result()
	var idle int64
	for _, k := range keys {
		idle += usage(k)
	}
	r.add("mem/idle", float64(idle))
	r.add("mem/idlekeys", float64(len(keys)))
	return nil
}
