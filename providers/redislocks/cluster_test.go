package redislocks_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// clusterNodes connects to each node of a test cluster; closed at the end.
func clusterNodes(t *testing.T, addrs []string) map[string]*redis.Client {
	nodes := map[string]*redis.Client{}
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		t.Cleanup(func() { _ = c.Close() })
		nodes[a] = c
	}
	return nodes
}

// migrate moves slot from node src to node dst as redis-cli --cluster
// reshard does: IMPORTING/MIGRATING, MIGRATE every key, then SETSLOT NODE
// everywhere.
func migrate(t *testing.T, nodes map[string]*redis.Client, slot int, src, dst string) {
	t.Helper()
	ctx := context.Background()
	srcID := nodes[src].ClusterMyID(ctx).Val()
	dstID := nodes[dst].ClusterMyID(ctx).Val()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(nodes[dst].Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", srcID).Err())
	must(nodes[src].Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dstID).Err())
	host, port, _ := net.SplitHostPort(dst)
	for {
		keys, err := nodes[src].ClusterGetKeysInSlot(ctx, slot, 100).Result()
		must(err)
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		must(nodes[src].Do(ctx, args...).Err())
	}
	must(nodes[dst].Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err())
	must(nodes[src].Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err())
	for a, c := range nodes {
		if a != src && a != dst {
			must(c.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err())
		}
	}
}

// On a Redis 7 Cluster waiters listen with SSUBSCRIBE on their key's shard,
// and releases SPUBLISH there: no PUBLISH is broadcast. A slot migration
// in the middle of a contended run double-holds nothing, and waiters keep
// being woken by releases rather than by their fallback timers.
func TestClusterShardedWakeupsAcrossSlotMigration(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	addrs := redistest.StartCluster(t, 3)
	nodes := clusterNodes(t, addrs)
	c := redistest.ClusterClient(addrs)
	defer c.Close()
	ctx := context.Background()
	l := redislocks.New(c, "sharded")
	const key = "job"
	lease := l.LeaseKey(key)
	m, err := c.MasterForKey(ctx, lease)
	if err != nil {
		t.Fatal(err)
	}
	src := m.Options().Addr

	// Long TTLs: a waiter that missed its wake-up would sit until its
	// Wait ran out, and fail the run.
	const ttl, wait = 30 * time.Second, 5 * time.Second
	var inside, holds atomic.Int64
	var maxWait atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				res, err := l.Acquire(ctx, key, locks.Options{TTL: ttl, Wait: wait})
				if err != nil || !res.Acquired {
					t.Errorf("contender %d: %+v, %v (a wake-up was lost)", g, res, err)
					return
				}
				if w := int64(time.Since(start)); w > maxWait.Load() {
					maxWait.Store(w)
				}
				if n := inside.Add(1); n != 1 {
					t.Errorf("%d holders at once", n)
				}
				holds.Add(1)
				<-time.After(2 * time.Millisecond) // the work done under the lease
				inside.Add(-1)
				if err := res.Lease.Release(ctx); err != nil {
					t.Errorf("release: %v", err)
					return
				}
			}
		}()
	}
	waitHolds := func(n int64) {
		t.Helper()
		target := holds.Load() + n
		eventually(t, fmt.Sprintf("%d more hand-offs", n), func() bool { return holds.Load() >= target || t.Failed() })
	}
	waitHolds(50)
	if n, err := nodes[src].Do(ctx, "PUBSUB", "SHARDNUMSUB", lease+":released").Slice(); err != nil || n[1].(int64) != 1 {
		t.Errorf("shard channel subscribers on %s: %v, %v; want 1 (one shared subscription)", src, n, err)
	}

	dst := addrs[0]
	if dst == src {
		dst = addrs[1]
	}
	slot := int(nodes[src].ClusterKeySlot(ctx, lease).Val())
	migrate(t, nodes, slot, src, dst)
	waitHolds(50)
	eventually(t, "the waiters to listen on the slot's new owner", func() bool {
		n, err := nodes[dst].Do(ctx, "PUBSUB", "SHARDNUMSUB", lease+":released").Slice()
		return err == nil && n[1].(int64) == 1
	})
	close(stop)
	wg.Wait()
	var publish, spublish int
	for _, n := range nodes {
		info := n.Info(ctx, "commandstats").Val()
		publish += statCalls(info, "publish")
		spublish += statCalls(info, "spublish")
	}
	if publish != 0 || spublish == 0 {
		t.Errorf("PUBLISH ran %d times and SPUBLISH %d; want only SPUBLISH", publish, spublish)
	}
	t.Logf("%d hand-offs, %d SPUBLISH, longest wait %v", holds.Load(), spublish, time.Duration(maxWait.Load()))
}
