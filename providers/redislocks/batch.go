package redislocks

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// maxInFlight is how many pipelines one Locks keeps in flight at once. Two
// let Redis work on one batch while the next one is on the wire, and keep
// the connections a Locks uses at two however many goroutines call it.
const maxInFlight = 2

// batcher runs scripts with natural batching. An operation that finds a
// pipeline slot free is sent at once, alone, so a lone caller never waits
// for company. Operations that arrive while every slot is in flight queue up
// and leave together as the next pipeline the moment a slot returns. Under
// load this turns many goroutines' round trips into a few pipelines on a
// few connections, which costs Redis and the client far fewer system calls
// than one connection per goroutine.
type batcher struct {
	client redis.UniversalClient

	mu       sync.Mutex
	inFlight int
	queue    []*scriptOp
}

// scriptOp is one script call waiting for its reply.
type scriptOp struct {
	ctx    context.Context
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd
	done   chan struct{}
}

// run runs script once, in a pipeline with whatever else is queued.
func (b *batcher) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	b.mu.Lock()
	if b.inFlight < maxInFlight {
		b.inFlight++
		b.mu.Unlock()
		// Alone: Run is EVALSHA, falling back to EVAL once per server.
		cmd := script.Run(ctx, b.client, keys, args...)
		b.next()
		return cmd
	}
	op := &scriptOp{ctx: ctx, script: script, keys: keys, args: args, done: make(chan struct{})}
	b.queue = append(b.queue, op)
	b.mu.Unlock()
	select {
	case <-op.done:
		return op.cmd
	case <-ctx.Done():
		// The script may still run; callers treat an error as "could not
		// tell", exactly as for a reply lost on the network.
		cmd := redis.NewCmd(ctx)
		cmd.SetErr(ctx.Err())
		return cmd
	}
}

// next hands the slot just freed to the queued operations, if any, as one
// pipeline sent from a new goroutine, so the caller that freed it returns
// with its own reply at once.
func (b *batcher) next() {
	b.mu.Lock()
	if len(b.queue) == 0 {
		b.inFlight--
		b.mu.Unlock()
		return
	}
	batch := b.queue
	b.queue = nil
	b.mu.Unlock()
	go func() {
		b.send(batch)
		b.next()
	}()
}

// send runs batch as one pipeline, then once more with EVAL for the scripts
// the server did not know (after a restart or a failover), and completes
// every operation.
func (b *batcher) send(batch []*scriptOp) {
	live := batch[:0:0]
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			// Never sent: a caller that has given up must not acquire.
			op.cmd = redis.NewCmd(op.ctx)
			op.cmd.SetErr(err)
			close(op.done)
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return
	}
	// One operation's cancellation must not fail the others it shares the
	// pipeline with; each caller still stops waiting on its own ctx.
	ctx := context.WithoutCancel(live[0].ctx)
	_, _ = b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, op := range live {
			op.cmd = op.script.EvalSha(ctx, p, op.keys, op.args...)
		}
		return nil
	})
	var missing []*scriptOp
	for _, op := range live {
		if redis.HasErrorPrefix(op.cmd.Err(), "NOSCRIPT") {
			missing = append(missing, op)
		}
	}
	if len(missing) > 0 {
		_, _ = b.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, op := range missing {
				op.cmd = op.script.Eval(ctx, p, op.keys, op.args...)
			}
			return nil
		})
	}
	for _, op := range live {
		close(op.done)
	}
}
