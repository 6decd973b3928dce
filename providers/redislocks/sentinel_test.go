package redislocks_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/internal/netproxy"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// holder is one WithLease run kept open until its ctx ends or the test
// stops it.
type holder struct {
	key     string
	token   uint64
	started chan struct{}
	stop    chan struct{}
	done    chan struct{}
	cause   error
	endedAt time.Time
	err     error
}

func hold(l *redislocks.Locks, key string, ttl time.Duration) *holder {
	h := &holder{key: key, started: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		h.err = l.WithLease(context.Background(), key, locks.Options{TTL: ttl}, func(ctx context.Context, lease locks.Lease) error {
			h.token = lease.FencingToken()
			close(h.started)
			select {
			case <-ctx.Done():
				h.cause, h.endedAt = context.Cause(ctx), time.Now()
			case <-h.stop:
			}
			return nil
		})
	}()
	return h
}

// A Sentinel failover while leases are held and renewed: leases that
// reached the replica survive it; holders whose lease did not are told
// (ErrLeaseLost), and tokens afterwards are above every token before.
func TestSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a master, a replica and three sentinels")
	}
	const ttl = 6 * time.Second
	master := redistest.Start(t)
	// The replica follows the master through a proxy, so the test can
	// stop replication while the master keeps accepting acquires.
	link, err := netproxy.Start(master.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()
	_, linkPort, _ := net.SplitHostPort(link.Addr())
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", linkPort)
	rc := replica.Client()
	defer rc.Close()
	ctx := context.Background()
	eventually(t, "the replica to sync", func() bool {
		info, err := rc.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	sentinels := redistest.StartSentinels(t, 3, master.Addr(), time.Second)
	sc := redistest.SentinelClientFor(sentinels[0])
	defer sc.Close()
	eventually(t, "the sentinels to see the replica", func() bool {
		rs, err := sc.Replicas(ctx, redistest.SentinelMaster).Result()
		return err == nil && len(rs) == 1
	})

	c := redistest.FailoverClient(sentinels)
	defer c.Close()
	l := redislocks.New(c, "failover")

	// Replicated leases.
	var kept []*holder
	for i := 0; i < 3; i++ {
		h := hold(l, "kept"+strconv.Itoa(i), ttl)
		<-h.started
		kept = append(kept, h)
	}
	eventually(t, "the kept leases to reach the replica", func() bool {
		n, err := rc.Exists(ctx, l.LeaseKey("kept0"), l.LeaseKey("kept1"), l.LeaseKey("kept2")).Result()
		return err == nil && n == 3
	})
	// Leases the replica never sees.
	link.Blackhole(true)
	var lost []*holder
	for i := 0; i < 3; i++ {
		h := hold(l, "lost"+strconv.Itoa(i), ttl)
		<-h.started
		lost = append(lost, h)
	}
	var before uint64
	for _, h := range append(kept, lost...) {
		before = max(before, h.token)
	}

	failStart := time.Now()
	master.Stop()
	var promoted string
	eventually(t, "the sentinels to promote the replica", func() bool {
		a, err := sc.GetMasterAddrByName(ctx, redistest.SentinelMaster).Result()
		if err == nil && len(a) == 2 && a[0]+":"+a[1] == replica.Addr() {
			promoted = a[0] + ":" + a[1]
			return true
		}
		return false
	})
	failover := time.Since(failStart)
	t.Logf("failover to %s took %v", promoted, failover)

	// Another instance takes the keys the new master never heard of.
	c2 := redistest.FailoverClient(sentinels)
	defer c2.Close()
	l2 := redislocks.New(c2, "failover")
	var after uint64
	var secondAt time.Time
	var second []locks.Lease
	for _, h := range lost {
		var lease locks.Lease
		eventually(t, "a second holder for "+h.key, func() bool {
			res, err := l2.Acquire(ctx, h.key, locks.Options{TTL: ttl})
			if err == nil && res.Acquired {
				lease = res.Lease
			}
			return lease != nil
		})
		secondAt = time.Now()
		after = max(after, lease.FencingToken())
		if lease.FencingToken() <= h.token {
			t.Errorf("%s: token after the failover %d, want > %d", h.key, lease.FencingToken(), h.token)
		}
		second = append(second, lease)
	}
	// The first holders of those keys must learn they lost them: their
	// next renewal finds the lease gone.
	for _, h := range lost {
		select {
		case <-h.done:
		case <-time.After(2 * ttl):
			t.Fatalf("%s: the holder whose lease was lost in the failover still runs", h.key)
		}
		if !errors.Is(h.cause, locks.ErrLeaseLost) {
			t.Errorf("%s: holder ended with cause %v, want ErrLeaseLost", h.key, h.cause)
		}
		t.Logf("%s: ErrLeaseLost %v after the kill, %v after the second holder took the key", h.key, h.endedAt.Sub(failStart).Round(time.Millisecond), h.endedAt.Sub(secondAt).Round(time.Millisecond))
	}
	// Replicated leases are still there, and still theirs: nobody else
	// can take them.
	for _, h := range kept {
		select {
		case <-h.done:
			if !errors.Is(h.cause, locks.ErrLeaseLost) {
				t.Errorf("%s: replicated holder ended with %v / %v", h.key, h.cause, h.err)
			}
			t.Logf("%s: replicated lease given up (%v): the outage outlasted its trust window", h.key, h.cause)
			continue
		default:
		}
		res, err := l2.Acquire(ctx, h.key, locks.Options{TTL: ttl})
		if err != nil || res.Acquired {
			t.Errorf("%s: a second instance acquired a replicated, renewed lease: %+v, %v", h.key, res, err)
		}
		close(h.stop)
		<-h.done
	}
	t.Logf("tokens: highest before %d, highest after %d", before, after)
	if after <= before {
		t.Errorf("highest token after the failover %d, want > %d", after, before)
	}
	for _, lease := range second {
		_ = lease.Release(ctx)
	}
}
