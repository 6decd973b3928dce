package outbox

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/internal/backoff"
)

// Reconnect backoff of the LISTEN connection.
const (
	listenMinBackoff = 100 * time.Millisecond
	listenMaxBackoff = 5 * time.Second
)

// listener holds one LISTEN connection and fans notifications out to
// subscribers. If the connection drops it reconnects with backoff, and wakes
// everyone once on reconnect, since notifications sent meanwhile are lost.
type listener struct {
	cancel context.CancelFunc
	done   chan struct{}
	fanout
}

func startListener(pool *pgxpool.Pool, channel string) *listener {
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{cancel: cancel, done: make(chan struct{})}
	go l.run(ctx, clockwork.NewRealClock(), func(ctx context.Context) (bool, error) { return l.listen(ctx, pool, channel) })
	return l
}

// run calls listen until ctx ends, backing off between failed attempts.
// listen reports whether it got as far as listening before it failed.
func (l *listener) run(ctx context.Context, clock clockwork.Clock, listen func(context.Context) (listening bool, err error)) {
	defer close(l.done)
	// Until the app stops: the drains poll meanwhile, so a lost LISTEN
	// costs latency, never messages.
	backoff.Policy{First: listenMinBackoff, Max: listenMaxBackoff, Clock: clock}.Reconnect(ctx, listen)
}

func (l *listener) listen(ctx context.Context, pool *pgxpool.Pool, channel string) (listening bool, err error) {
	// A connection of its own, not the pool's: LISTEN is connection
	// state, and it waits for as long as the app runs.
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return false, err
	}
	// A NOTIFY comes from another process: no test's tracker counts it
	// (wakes.Counter is for the memory store).
	l.wake(nil) // anything committed before LISTEN took effect
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, err
		}
		l.wake(nil)
	}
}

func (l *listener) stop() {
	l.cancel()
	<-l.done
}
