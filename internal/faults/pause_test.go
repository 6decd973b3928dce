package faults_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/beignet-go/beignet/internal/pgtest"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// A holder process is SIGSTOPped past its TTL while another takes over and
// writes; when it is SIGCONTed it writes with its old token. Over 100 rounds
// the database accepts none of those stale writes, in a fenced table or in
// the outbox, and every outbox message is marked exactly once.
func TestPausedHolderWritesAreRefused(t *testing.T) {
	bg := context.Background()
	redis := redistest.SharedClient(t)
	prefix := redistest.UniquePrefix(t, redis)
	pool := pgtest.Pool(t)
	schema := pgtest.Schema(t, pool)
	store, err := outbox.NewPostgres(pool, outbox.PostgresSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(bg); err != nil {
		t.Fatal(err)
	}
	table := pgx.Identifier{schema, "fenced"}.Sanitize()
	if _, err := pool.Exec(bg, `CREATE TABLE `+table+` (id int PRIMARY KEY, token bigint NOT NULL, writer text NOT NULL);
INSERT INTO `+table+` VALUES (1, 0, 'nobody')`); err != nil {
		t.Fatal(err)
	}

	const ttl = 150 * time.Millisecond
	holder := startWorker(t, "holder", "REDIS_ADDR="+redistest.SharedAddr(), "PREFIX="+prefix,
		"TTL="+ttl.String(), "DSN="+pgtest.DSN(), "SCHEMA="+schema)
	l := redislocks.New(redis, prefix)
	rounds := 100
	if testing.Short() {
		rounds = 10
	}
	staleAccepted := 0
	for round := 0; round < rounds; round++ {
		tx, _ := pool.Begin(bg)
		id, err := store.Enqueue(bg, tx, outbox.Message{Topic: "pause", Payload: []byte(fmt.Sprint(round))})
		if err != nil {
			t.Fatal(err)
		}
		_ = tx.Commit(bg)

		fmt.Fprintln(holder.stdin, "acquire")
		got := next(t, holder, "acquired")
		if !got.OK {
			t.Fatalf("round %d: holder could not acquire: %s", round, got.Err)
		}
		// Pause the holder with its next command already waiting for it.
		holder.pause()
		fmt.Fprintf(holder.stdin, "write %d\n", id)

		// Its lease runs out on the server; take over and write.
		var mine locks.Lease
		for mine == nil {
			res, err := l.Acquire(bg, "fenced", locks.Options{TTL: time.Minute, Wait: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if res.Acquired {
				mine = res.Lease
			}
		}
		if mine.FencingToken() <= got.Token {
			t.Fatalf("round %d: takeover token %d not above %d", round, mine.FencingToken(), got.Token)
		}
		tag, err := pool.Exec(bg, `UPDATE `+table+` SET token = $1, writer = 'taker' WHERE id = 1 AND token <= $1`, int64(mine.FencingToken()))
		if err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("round %d: the current holder's write was refused: %v", round, err)
		}
		if _, err := store.Claim(bg, "pause", mine.FencingToken(), time.Now().Add(time.Hour), 10); err != nil {
			t.Fatal(err)
		}

		// Resume the paused holder: both its writes must be refused.
		holder.signal(syscall.SIGCONT)
		for _, want := range []string{"table", "outbox"} {
			w := next(t, holder, "wrote")
			if w.Outcome != want {
				t.Fatalf("round %d: got %+v, want the %s write", round, w, want)
			}
			if w.OK {
				staleAccepted++
				t.Errorf("round %d: stale %s write with token %d accepted", round, want, w.Token)
			}
		}
		if err := store.MarkPublished(bg, "pause", mine.FencingToken(), []int64{id}); err != nil {
			t.Fatalf("round %d: current holder's mark: %v", round, err)
		}
		_ = mine.Release(bg)
	}
	var writer string
	_ = pool.QueryRow(bg, `SELECT writer FROM `+table+` WHERE id = 1`).Scan(&writer)
	var published int
	_ = pool.QueryRow(bg, `SELECT count(*) FROM `+pgx.Identifier{schema, "messages"}.Sanitize()+` WHERE status = 'published'`).Scan(&published)
	t.Logf("%d rounds: %d stale writes accepted; last writer %s; %d messages published", rounds, staleAccepted, writer, published)
	if staleAccepted != 0 || writer != "taker" || published != rounds {
		t.Fatalf("stale writes accepted: %d, last writer %q, published %d of %d", staleAccepted, writer, published, rounds)
	}
	_ = holder.stdin.Close()
	<-holder.done
}

// next returns the worker's next event of kind, failing the test if none
// arrives.
func next(t *testing.T, w *worker, kind string) event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e, ok := <-w.events:
			if !ok {
				t.Fatalf("worker exited while waiting for %q", kind)
			}
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %q event", kind)
		}
	}
}
