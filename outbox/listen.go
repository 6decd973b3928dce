package outbox

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
	go l.run(ctx, pool, channel)
	return l
}

func (l *listener) run(ctx context.Context, pool *pgxpool.Pool, channel string) {
	defer close(l.done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if err := l.listen(ctx, pool, channel); err == nil || ctx.Err() != nil {
			return
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (l *listener) listen(ctx context.Context, pool *pgxpool.Pool, channel string) error {
	// A connection of its own, not the pool's: LISTEN is connection
	// state, and it waits for as long as the app runs.
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	l.wake() // anything committed before LISTEN took effect
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		l.wake()
	}
}

func (l *listener) stop() {
	l.cancel()
	<-l.done
}
