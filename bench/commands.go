package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

const cmdOps = 1000

// measureCommands counts, per uncontended acquire of a key used before and
// per release, the round trips each client sends and the commands Redis
// executes (INFO commandstats, which also counts the commands inside a
// script).
func measureCommands(r *results, addr string) error {
	ctx := context.Background()
	admin := newClient(addr, 2)
	defer admin.Close()
	c := newClient(addr, 4)
	defer c.Close()
	counter := &cmdCounter{}
	c.AddHook(counter)
	for _, p := range []peer{beignetPeer(c, "cmd:b:"), redsyncPeer(c, "cmd:rs:"), redislockPeer(c, "cmd:rl:", 0), baselinePeer(c, "cmd:base:")} {
		// Warm up so script loading is not counted.
		if err := p.pair(ctx, "warm"); err != nil {
			return err
		}
		// Each key once before, as a schedule's lease is taken again and
		// again: a key's first acquisition also seeds its fence counter.
		for i := 0; i < cmdOps; i++ {
			if err := p.pair(ctx, "k"+strconv.Itoa(i)); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
		}
		releases := make([]func(), 0, cmdOps)
		before, err := serverCommands(ctx, admin)
		if err != nil {
			return err
		}
		rt := counter.n.Load()
		for i := 0; i < cmdOps; i++ {
			rel, err := p.acquire(ctx, "k"+strconv.Itoa(i), false)
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			releases = append(releases, rel)
		}
		mid, _ := serverCommands(ctx, admin)
		rtMid := counter.n.Load()
		for _, rel := range releases {
			rel()
		}
		after, _ := serverCommands(ctx, admin)
		rtEnd := counter.n.Load()
		// The admin client's INFO calls are counted too: one per reading.
		r.add("cmdacq/"+p.name, float64(mid-before-1)/cmdOps)
		r.add("cmdrel/"+p.name, float64(after-mid-1)/cmdOps)
		r.add("rtacq/"+p.name, float64(rtMid-rt)/cmdOps)
		r.add("rtrel/"+p.name, float64(rtEnd-rtMid)/cmdOps)
	}
	return nil
}

// serverCommands sums calls over INFO commandstats.
func serverCommands(ctx context.Context, c *redis.Client) (int64, error) {
	info, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0, err
	}
	var total int64
	for _, line := range strings.Split(info, "\n") {
		if !strings.HasPrefix(line, "cmdstat_") {
			continue
		}
		_, rest, _ := strings.Cut(line, "calls=")
		n, _, _ := strings.Cut(rest, ",")
		v, _ := strconv.ParseInt(n, 10, 64)
		total += v
	}
	return total, nil
}

func field(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}
