package outbox_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/outbox"
)

func operator(t *testing.T, h storeHarness) outbox.Operator {
	t.Helper()
	op, ok := h.store.(outbox.Operator)
	if !ok {
		t.Fatalf("%T does not implement outbox.Operator", h.store)
	}
	return op
}

func stats(t *testing.T, op outbox.Operator) outbox.Stats {
	t.Helper()
	st, err := op.Stats(bg)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// deadLetters enqueues topics and kills each of them, in order.
func deadLetters(t *testing.T, h storeHarness, topics ...string) []outbox.Message {
	t.Helper()
	var msgs []outbox.Message
	for _, tp := range topics {
		msgs = append(msgs, msg(tp, "", "payload of "+tp))
	}
	mustEnqueue(t, h, msgs...)
	got := claim(t, h, 1, later(), len(topics))
	for _, m := range got {
		if err := h.store.MarkFailed(bg, "d", 1, m.ID, "broke: "+m.Topic, later(), true); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

func testOperatorStats(t *testing.T, h storeHarness) {
	op := operator(t, h)
	if st := stats(t, op); st.Pending != 0 || st.Retrying != 0 || st.Dead != 0 || len(st.Drains) != 0 ||
		!st.OldestPendingAt.IsZero() || st.OldestPendingAge != 0 {
		t.Fatalf("empty store: %+v", st)
	}
	mustEnqueue(t, h, msg("retrying", "", ""), msg("dead", "", ""), msg("published", "", ""), msg("pending", "", ""))
	got := claim(t, h, 1, later(), 10)
	if _, err := h.store.Claim(bg, "another", 1, later(), 1); err != nil {
		t.Fatal(err)
	}
	if err := h.store.MarkFailed(bg, "d", 1, got[0].ID, "x", later(), false); err != nil {
		t.Fatal(err)
	}
	if err := h.store.MarkFailed(bg, "d", 1, got[1].ID, "x", later(), true); err != nil {
		t.Fatal(err)
	}
	if err := h.store.MarkPublished(bg, "d", 1, []int64{got[2].ID}); err != nil {
		t.Fatal(err)
	}
	st := stats(t, op)
	if st.Pending != 1 || st.Retrying != 1 || st.Dead != 1 {
		t.Errorf("counts: pending %d, retrying %d, dead %d; want 1 each", st.Pending, st.Retrying, st.Dead)
	}
	if strings.Join(st.Drains, ",") != "another,d" {
		t.Errorf("drains = %q, want another,d", st.Drains)
	}
	// The oldest waiting message is the retrying one, enqueued first.
	if !st.OldestPendingAt.Equal(got[0].CreatedAt) {
		t.Errorf("oldest pending at %v, want the retrying message's %v", st.OldestPendingAt, got[0].CreatedAt)
	}
	if st.OldestPendingAge < 0 || st.OldestPendingAge > time.Minute {
		t.Errorf("oldest pending age %v, want a moment", st.OldestPendingAge)
	}
}

func testOperatorDeadLetters(t *testing.T, h storeHarness) {
	op := operator(t, h)
	if got, err := op.DeadLetters(bg, 10); err != nil || len(got) != 0 {
		t.Fatalf("no dead letters: %v, %v", got, err)
	}
	dead := deadLetters(t, h, "one", "two", "three")
	mustEnqueue(t, h, msg("alive", "", ""))
	got, err := op.DeadLetters(bg, 2)
	if err != nil {
		t.Fatal(err)
	}
	if topics(got) != "three,two" {
		t.Fatalf("dead letters with limit 2 = %q, want the newest first: three,two", topics(got))
	}
	if m := got[0]; m.ID != dead[2].ID || m.LastError != "broke: three" || string(m.Payload) != "payload of three" || m.Status != outbox.Dead {
		t.Errorf("dead letter = %+v", m)
	}
	if got, err := op.DeadLetters(bg, math.MaxInt); err != nil || topics(got) != "three,two,one" {
		t.Errorf("limit MaxInt = %q, %v", topics(got), err)
	}
	for _, limit := range []int{0, -1, math.MinInt} {
		if _, err := op.DeadLetters(bg, limit); !errors.Is(err, outbox.ErrInvalidLimit) {
			t.Errorf("limit %d: %v, want ErrInvalidLimit", limit, err)
		}
	}
}

func testOperatorRequeue(t *testing.T, h storeHarness) {
	op := operator(t, h)
	dead := deadLetters(t, h, "one", "two", "three")
	mustEnqueue(t, h, msg("alive", "", ""))
	alive := claim(t, h, 1, later(), 10)[0]

	// All or nothing: one bad id and nothing is requeued.
	err := op.Requeue(bg, dead[0].ID, 987654321)
	if !errors.Is(err, outbox.ErrUnknownMessage) || !strings.Contains(err.Error(), "987654321") {
		t.Fatalf("requeue of an unknown id = %v, want ErrUnknownMessage naming it", err)
	}
	err = op.Requeue(bg, alive.ID, dead[0].ID)
	if !errors.Is(err, outbox.ErrNotDead) || !strings.Contains(err.Error(), "pending") {
		t.Fatalf("requeue of a pending message = %v, want ErrNotDead saying it is pending", err)
	}
	for _, id := range []int64{0, -1, math.MinInt64, math.MaxInt64} {
		if err := op.Requeue(bg, id); !errors.Is(err, outbox.ErrUnknownMessage) {
			t.Errorf("requeue %d = %v, want ErrUnknownMessage", id, err)
		}
	}
	if st := stats(t, op); st.Dead != 3 {
		t.Fatalf("refused requeues changed the store: %+v", st)
	}
	if err := op.Requeue(bg); err != nil {
		t.Fatalf("requeue of nothing: %v", err)
	}

	// A repeated id is one message, not a missing one.
	if err := op.Requeue(bg, dead[0].ID, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	m, _, _ := h.store.Get(bg, dead[0].ID)
	if m.Status != outbox.Pending || m.Attempts != 0 || m.LastError != "broke: one" {
		t.Fatalf("requeued message = %+v; want pending, no attempts, last error kept", m)
	}
	if got := claim(t, h, 1, later(), 10); topics(got) != "one,alive" {
		t.Fatalf("claimable after requeue: %q, want one,alive", topics(got))
	}
	if err := op.Requeue(bg, dead[0].ID); !errors.Is(err, outbox.ErrNotDead) {
		t.Fatalf("second requeue = %v, want ErrNotDead", err)
	}

	n, err := op.RequeueDead(bg)
	if err != nil || n != 2 {
		t.Fatalf("requeue all dead = %d, %v; want 2", n, err)
	}
	if st := stats(t, op); st.Dead != 0 || st.Pending != 4 {
		t.Fatalf("after requeueing all: %+v", st)
	}
	if n, err := op.RequeueDead(bg); err != nil || n != 0 {
		t.Fatalf("requeue all with none dead = %d, %v", n, err)
	}
}

// Two operators requeue the same dead letter at once: one wins, the other
// is told it is no longer dead.
func testOperatorRequeueRace(t *testing.T, h storeHarness) {
	op := operator(t, h)
	dead := deadLetters(t, h, "contested")
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- op.Requeue(bg, dead[0].ID) }()
	}
	var won, lost int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			won++
		case errors.Is(err, outbox.ErrNotDead):
			lost++
		default:
			t.Fatal(err)
		}
	}
	if won != 1 || lost != 1 {
		t.Fatalf("%d requeues won and %d were refused; want 1 and 1", won, lost)
	}
}

// A requeue wakes the drains, as an enqueue does, so a requeued dead
// letter goes out at once rather than at the drain's next interval.
func TestRequeueWakesTheDrains(t *testing.T) {
	for name, c := range map[string]struct {
		harness func(*testing.T) storeHarness
		// listens: the PostgreSQL listener wakes everyone once when it
		// has connected; a wake-up means something only after that.
		listens bool
	}{"postgres": {pgHarness, true}, "memory": {memHarness, false}} {
		t.Run(name, func(t *testing.T) {
			h := c.harness(t)
			dead := deadLetters(t, h, "one", "two")
			wake, stop := h.store.(outbox.Notifier).Subscribe()
			defer stop()
			if c.listens {
				waitWake(t, wake, "the listener to connect")
			}
			op := operator(t, h)
			if err := op.Requeue(bg, dead[0].ID); err != nil {
				t.Fatal(err)
			}
			waitWake(t, wake, "Requeue's wake-up")
			if _, err := op.RequeueDead(bg); err != nil {
				t.Fatal(err)
			}
			waitWake(t, wake, "RequeueDead's wake-up")
		})
	}
}

func waitWake(t *testing.T, wake <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-wake:
	case <-time.After(10 * time.Second):
		t.Fatalf("no wake-up: waited 10s for %s", what)
	}
}

func TestOperatorCancelledContext(t *testing.T) {
	op := operator(t, pgHarness(t))
	c, cancel := context.WithCancel(bg)
	cancel()
	if _, err := op.Stats(c); !errors.Is(err, context.Canceled) {
		t.Errorf("Stats: %v", err)
	}
	if _, err := op.DeadLetters(c, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("DeadLetters: %v", err)
	}
	if err := op.Requeue(c, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Requeue: %v", err)
	}
	if _, err := op.RequeueDead(c); !errors.Is(err, context.Canceled) {
		t.Errorf("RequeueDead: %v", err)
	}
}
