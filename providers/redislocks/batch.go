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
	// sent is set before the op goes on the wire; an op whose caller
	// gave up before that is never sent.
	sent bool
	done chan struct{} // closed once cmd holds the reply, or the op was dropped
}

// run runs script once, in a pipeline with whatever else is queued.
func (b *batcher) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	return b.start(ctx, script, keys, args...).wait(ctx)
}

// start sends script once, in a pipeline with whatever else is queued,
// and returns the op at once; wait collects its reply.
//
// Every op, alone or batched, is sent as a pipeline, so a Locks or Ledger
// uses connections of the client's pipeline pool only, at most
// maxInFlight of them, rather than that many more from the main pool for
// ops that happened to go alone.
func (b *batcher) start(ctx context.Context, script *redis.Script, keys []string, args ...any) *scriptOp {
	op := &scriptOp{ctx: ctx, script: script, keys: keys, args: args, done: make(chan struct{})}
	b.mu.Lock()
	if b.inFlight < maxInFlight {
		b.inFlight++
		b.mu.Unlock()
		if ctx.Done() == nil {
			// Nobody can give up on it: send it from here.
			b.send([]*scriptOp{op})
			b.next()
			return op
		}
		// Sent from its own goroutine, so a caller whose ctx ends
		// stops waiting at once while the reply is still read.
		go func() {
			b.send([]*scriptOp{op})
			b.next()
		}()
		return op
	}
	b.queue = append(b.queue, op)
	b.mu.Unlock()
	return op
}

// wait returns op's reply, or ctx's error if ctx ends first. The script
// may still run then; callers treat that error as "could not tell",
// exactly as for a reply lost on the network, and may wait on op.done to
// learn what happened.
func (op *scriptOp) wait(ctx context.Context) *redis.Cmd {
	select {
	case <-op.done:
		return op.cmd
	case <-ctx.Done():
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
	live := make([]*scriptOp, 0, len(batch))
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			// Never sent: a caller that has given up must not acquire.
			op.cmd = redis.NewCmd(op.ctx)
			op.cmd.SetErr(err)
			close(op.done)
			continue
		}
		op.sent = true
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
