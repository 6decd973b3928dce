package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beignet-go/beignet/outbox"
)

// drainOnce claims everything available, publishes it (into got) and marks
// it published, as one drain pass would.
func drainOnce(t *testing.T, store outbox.Store, token uint64, got *[]outbox.Message) {
	t.Helper()
	batch, err := store.Claim(bg, "d", token, later(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, m := range batch {
		ids = append(ids, m.ID)
	}
	if err := store.MarkPublished(bg, "d", token, ids); err != nil {
		t.Fatal(err)
	}
	*got = append(*got, batch...)
}

// checkKeyOrder asserts that the published messages are first then second,
// in increasing id order.
func checkKeyOrder(t *testing.T, got []outbox.Message) {
	t.Helper()
	if len(got) != 2 || string(got[0].Payload) != "first" || string(got[1].Payload) != "second" || got[0].ID >= got[1].ID {
		var desc []string
		for _, m := range got {
			desc = append(desc, fmt.Sprintf("%s#%d", m.Payload, m.ID))
		}
		t.Fatalf("published %v (payload#id); want first then second, in id order", desc)
	}
}

// tx1 enqueues key K; tx2 enqueues K and tries to commit; a drain passes;
// tx1 commits; a drain passes. Ids are drawn at insert and become visible at
// commit, so without a per-key lock tx2's later id would be published
// before tx1's earlier one. With it, tx2's enqueue waits for tx1 and the
// key's messages are published in commit order, which is id order.
func TestPostgresKeyOrderAcrossInterleavedCommits(t *testing.T) {
	pool := testPool(t)
	store := newPostgres(t, pool)
	tx1, err := pool.Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer tx1.Rollback(bg)
	if _, err := store.Enqueue(bg, tx1, msg("t", "K", "first")); err != nil {
		t.Fatal(err)
	}
	tx1PID := tx1.Conn().PgConn().PID()

	tx2, err := pool.Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer tx2.Rollback(bg)
	tx2PID := tx2.Conn().PgConn().PID()
	tx2Done := make(chan error, 1)
	go func() {
		if _, err := store.Enqueue(bg, tx2, msg("t", "K", "second")); err != nil {
			tx2Done <- err
			return
		}
		tx2Done <- tx2.Commit(bg)
	}()
	tx2Finished := waitBlockedOrDone(t, pool, tx2PID, tx1PID, tx2Done)

	// The lock is per key: other keys, and unkeyed messages, do not wait
	// for tx1 (a wait would hit this ctx's deadline).
	otherCtx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	tx3, err := pool.Begin(otherCtx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx3.Rollback(bg)
	for _, m := range []outbox.Message{msg("other", "L", "other"), msg("other", "", "other")} {
		if _, err := store.Enqueue(otherCtx, tx3, m); err != nil {
			t.Fatalf("enqueue key %q while tx1 holds K: %v", m.Key, err)
		}
	}
	if err := tx3.Commit(otherCtx); err != nil {
		t.Fatal(err)
	}

	var got []outbox.Message
	drainOnce(t, store, 1, &got)
	if err := tx1.Commit(bg); err != nil {
		t.Fatal(err)
	}
	if !tx2Finished {
		if err := <-tx2Done; err != nil {
			t.Fatal(err)
		}
	}
	drainOnce(t, store, 1, &got)
	if len(got) != 4 {
		t.Fatalf("published %d messages, want 4 (two of K, one of L, one unkeyed)", len(got))
	}
	checkKeyOrder(t, onlyKey(got, "K"))
}

func onlyKey(ms []outbox.Message, key string) []outbox.Message {
	var out []outbox.Message
	for _, m := range ms {
		if m.Key == key {
			out = append(out, m)
		}
	}
	return out
}

// waitBlockedOrDone waits until the backend pid is blocked by blocker, or
// done delivers (then it reports true, after checking the error).
func waitBlockedOrDone(t *testing.T, pool *pgxpool.Pool, pid, blocker uint32, done <-chan error) bool {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	guard := time.After(20 * time.Second) // failure guard only
	for {
		var blocked bool
		if err := pool.QueryRow(bg, `SELECT $2::int = ANY(pg_blocking_pids($1::int))`, int32(pid), int32(blocker)).Scan(&blocked); err != nil {
			t.Fatal(err)
		}
		if blocked {
			return false
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return true
		case <-tick.C:
		case <-guard:
			t.Fatal("tx2 neither blocked on tx1 nor finished")
		}
	}
}

// The memory store draws ids at commit, so it keeps the same promise. In
// the same interleaving (tx1 enqueues first, tx2 commits first) the key's
// messages are published in commit order, which is id order.
func TestMemoryKeyOrderAcrossInterleavedCommits(t *testing.T) {
	store := outbox.NewMemory()
	tx1, tx2 := store.Begin(), store.Begin()
	if err := store.Enqueue(bg, tx1, msg("t", "K", "second")); err != nil {
		t.Fatal(err)
	}
	if err := store.Enqueue(bg, tx2, msg("t", "K", "first")); err != nil {
		t.Fatal(err)
	}
	if err := tx2.Commit(); err != nil {
		t.Fatal(err)
	}
	var got []outbox.Message
	drainOnce(t, store, 1, &got)
	if err := tx1.Commit(); err != nil {
		t.Fatal(err)
	}
	drainOnce(t, store, 1, &got)
	checkKeyOrder(t, got)
}

// An Enqueue waiting for another transaction's key returns as soon as its
// ctx is cancelled, with ctx's error.
func TestPostgresEnqueueWaitingForAKeyHonoursCtx(t *testing.T) {
	pool := testPool(t)
	store := newPostgres(t, pool)
	holder, err := pool.Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(bg)
	if _, err := store.Enqueue(bg, holder, msg("t", "K", "held")); err != nil {
		t.Fatal(err)
	}
	waiter, err := pool.Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Rollback(bg)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := store.Enqueue(ctx, waiter, msg("t", "K", "waiting"))
		done <- err
	}()
	if waitBlockedOrDone(t, pool, waiter.Conn().PgConn().PID(), holder.Conn().PgConn().PID(), done) {
		t.Fatal("Enqueue of a key another transaction holds did not wait")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Enqueue = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second): // failure guard only
		t.Fatal("cancelled Enqueue still waiting")
	}
}
