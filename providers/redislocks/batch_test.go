package redislocks_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// pipelines records how many commands each round trip carried.
type pipelines struct {
	single, batched, batchedCmds atomic.Int64
}

func (p *pipelines) DialHook(next redis.DialHook) redis.DialHook { return next }
func (p *pipelines) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		p.single.Add(1)
		return next(ctx, cmd)
	}
}
func (p *pipelines) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if name := cmds[0].Name(); name != "evalsha" && name != "eval" {
			// A new connection's handshake, not our operations.
			return next(ctx, cmds)
		}
		p.batched.Add(1)
		p.batchedCmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func pairs(t *testing.T, l *redislocks.Locks, goroutines, each int) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "k" + strconv.Itoa(g)
			for i := 0; i < each; i++ {
				res, err := l.Acquire(ctx, key, locks.Options{TTL: time.Minute})
				if err != nil || !res.Acquired {
					t.Errorf("%s: %+v, %v", key, res, err)
					return
				}
				if err := res.Lease.Release(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Many goroutines' operations leave in shared pipelines over at most two
// connections, while a lone goroutine's operations are sent at once, alone
// (a pipeline of one).
func TestNaturalBatching(t *testing.T) {
	srv := redistest.Start(t)
	obs := srv.Client()
	defer obs.Close()
	c := srv.Client()
	defer c.Close()
	var p pipelines
	c.AddHook(&p)
	l := redislocks.New(c, "batch")

	// Every operation goes out as a pipeline, so that a Locks uses only
	// the client's pipeline pool; a lone goroutine's are pipelines of one.
	pairs(t, l, 1, 50)
	// (Two more: each script's first EVALSHA is answered NOSCRIPT and
	// sent again as EVAL.)
	if b, cmds := p.batched.Load(), p.batchedCmds.Load(); b < 100 || cmds != b {
		t.Fatalf("a lone goroutine's 100 operations went out in %d pipelines carrying %d, want one each, sent at once", b, cmds)
	}
	p.batched.Store(0)
	p.batchedCmds.Store(0)

	pairs(t, l, 64, 50)
	b, cmds := p.batched.Load(), p.batchedCmds.Load()
	if b == 0 || cmds <= b {
		t.Fatalf("64 goroutines: %d pipelines carrying %d commands; want several commands per pipeline", b, cmds)
	}
	t.Logf("64 goroutines: %d pipelines, %.1f commands each", b, float64(cmds)/float64(b))
	// At most two pipelines are in flight at once. go-redis's pool may
	// dial a connection ahead while another is being returned, so allow
	// it one spare per slot: far from one connection per goroutine.
	if n := infoInt(t, obs, "clients", "connected_clients") - 1; n > 4 {
		t.Errorf("64 goroutines used %d connections, want at most 4\n%s", n, obs.ClientList(context.Background()).Val())
	}
}

// A server that lost its scripts (restart, failover) gets them again inside
// a batch: every batched operation still succeeds.
func TestBatchReloadsScripts(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	defer c.Close()
	l := redislocks.New(c, "reload")
	pairs(t, l, 16, 5)
	if err := c.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	pairs(t, l, 64, 5)
}

// A cancelled caller's queued operation is never sent, and the others in
// its batch are not disturbed.
func TestBatchCancelledCaller(t *testing.T) {
	c := newClient(t)
	l := redislocks.New(c, uniquePrefix(t, c))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var wg sync.WaitGroup
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := l.Acquire(ctx, "c"+strconv.Itoa(g), locks.Options{TTL: time.Minute})
			if err == nil || res.Acquired {
				t.Errorf("cancelled acquire = %+v, %v", res, err)
			}
		}()
	}
	pairs(t, l, 32, 20)
	wg.Wait()
	for g := 0; g < 32; g++ {
		if _, held, err := l.Inspect(context.Background(), "c"+strconv.Itoa(g)); err != nil || held {
			t.Errorf("key of a cancelled acquire: held %v, %v", held, err)
		}
	}
}
