// Package outboxtest is the conformance suite every outbox.Store runs:
// the memory and PostgreSQL stores in this module, and a third-party store
// (MySQL, say) that wants to prove it keeps the same promises: commit and
// rollback, claim order per key, fencing by the drain's token, backoff,
// dead letters, retention, bad input, and, when the store is also an
// outbox.Operator, the operator's views and requeues.
//
//	func TestMyStore(t *testing.T) {
//		outboxtest.Run(t, func(t *testing.T) outboxtest.Harness {
//			store := newMyStore(t) // empty, private to t
//			return outboxtest.Harness{Store: store, Enqueue: ..., EnqueueNoTx: ..., MaxPayload: ...}
//		})
//	}
package outboxtest

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/outbox"
)

// Harness adapts a store to the suite. Enqueueing is store-specific: it
// joins the store's own kind of transaction.
type Harness struct {
	// Store is empty, and private to the test that asked for it.
	Store outbox.Store
	// Enqueue enqueues msgs in one transaction and commits it, or rolls it
	// back when commit is false. It returns the first error.
	Enqueue func(t *testing.T, commit bool, msgs ...outbox.Message) error
	// EnqueueNoTx calls the store's Enqueue without a transaction, which
	// must fail with outbox.ErrNoTransaction.
	EnqueueNoTx func() error
	// MaxPayload is the largest payload the store accepts.
	MaxPayload int
}

// Run runs every case of the suite as a subtest, each on a fresh Harness
// from newStore.
func Run(t *testing.T, newStore func(t *testing.T) Harness) {
	cases := map[string]func(t *testing.T, h Harness){
		"CommitAndRollback":      testCommitAndRollback,
		"ClaimOrderAndLimit":     testClaimOrderAndLimit,
		"Fencing":                testFencing,
		"FailBackoffAndKeyOrder": testFailBackoffAndKeyOrder,
		"DeadLetter":             testDeadLetter,
		"Retention":              testRetention,
		"BadInput":               testBadInput,
		"OperatorStats":          testOperatorStats,
		"OperatorDeadLetters":    testOperatorDeadLetters,
		"OperatorRequeue":        testOperatorRequeue,
		"OperatorRequeueRace":    testOperatorRequeueRace,
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) { fn(t, newStore(t)) })
	}
}

var bg = context.Background()

func msg(topic, key, payload string) outbox.Message {
	return outbox.Message{Topic: topic, Key: key, Payload: []byte(payload), Headers: map[string]string{"h": topic}}
}

// later is a claim time comfortably after anything the stores stamp.
func later() time.Time { return time.Now().Add(time.Hour) }

func mustEnqueue(t *testing.T, h Harness, msgs ...outbox.Message) {
	t.Helper()
	if err := h.Enqueue(t, true, msgs...); err != nil {
		t.Fatal(err)
	}
}

func claim(t *testing.T, h Harness, token uint64, now time.Time, limit int) []outbox.Message {
	t.Helper()
	got, err := h.Store.Claim(bg, "d", token, now, limit)
	if err != nil {
		t.Fatalf("Claim(token %d): %v", token, err)
	}
	return got
}

func topics(ms []outbox.Message) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Topic)
	}
	return strings.Join(s, ",")
}

func operator(t *testing.T, h Harness) outbox.Operator {
	t.Helper()
	op, ok := h.Store.(outbox.Operator)
	if !ok {
		t.Skipf("%T does not implement outbox.Operator", h.Store)
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
func deadLetters(t *testing.T, h Harness, topics ...string) []outbox.Message {
	t.Helper()
	var msgs []outbox.Message
	for _, tp := range topics {
		msgs = append(msgs, msg(tp, "", "payload of "+tp))
	}
	mustEnqueue(t, h, msgs...)
	got := claim(t, h, 1, later(), len(topics))
	for _, m := range got {
		if err := h.Store.MarkFailed(bg, "d", 1, m.ID, "broke: "+m.Topic, later(), true); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

func testCommitAndRollback(t *testing.T, h Harness) {
	mustEnqueue(t, h, msg("a", "", "1"), msg("b", "", "2"))
	if err := h.Enqueue(t, false, msg("rolled-back", "", "x")); err != nil {
		t.Fatal(err)
	}
	got := claim(t, h, 1, later(), 10)
	if topics(got) != "a,b" {
		t.Fatalf("claimed %q, want a,b (nothing from the rolled-back tx)", topics(got))
	}
	m := got[0]
	if string(m.Payload) != "1" || m.Headers["h"] != "a" || m.Status != outbox.Pending || m.Attempts != 0 || m.CreatedAt.IsZero() || m.ID == 0 {
		t.Errorf("message = %+v", m)
	}
	if got[1].ID <= got[0].ID {
		t.Errorf("ids not increasing: %d then %d", got[0].ID, got[1].ID)
	}
}

func testClaimOrderAndLimit(t *testing.T, h Harness) {
	mustEnqueue(t, h, msg("1", "k", ""), msg("2", "", ""), msg("3", "k", ""), msg("4", "j", ""))
	if got := claim(t, h, 1, later(), 3); topics(got) != "1,2,3" {
		t.Fatalf("claimed %q, want 1,2,3", topics(got))
	}
	// Not yet available: nothing.
	if got := claim(t, h, 1, time.Now().Add(-time.Hour), 10); len(got) != 0 {
		t.Fatalf("claimed %q before the messages were available", topics(got))
	}
}

func testFencing(t *testing.T, h Harness) {
	mustEnqueue(t, h, msg("a", "", ""), msg("b", "", ""))
	got := claim(t, h, 5, later(), 10)
	if _, err := h.Store.Claim(bg, "d", 4, later(), 10); !errors.Is(err, outbox.ErrFenced) {
		t.Fatalf("claim with an older token = %v, want ErrFenced", err)
	}
	if err := h.Store.MarkPublished(bg, "d", 4, []int64{got[0].ID}); !errors.Is(err, outbox.ErrFenced) {
		t.Fatalf("mark with an older token = %v, want ErrFenced", err)
	}
	if err := h.Store.MarkFailed(bg, "d", 4, got[0].ID, "x", later(), false); !errors.Is(err, outbox.ErrFenced) {
		t.Fatalf("mark failed with an older token = %v, want ErrFenced", err)
	}
	// Another drain name has its own fence.
	if _, err := h.Store.Claim(bg, "other", 1, later(), 10); err != nil {
		t.Fatalf("claim on another drain: %v", err)
	}
	// A newer drainer takes over: the old token's mark is refused and the
	// message stays pending for the new one.
	claim(t, h, 6, later(), 10)
	if err := h.Store.MarkPublished(bg, "d", 5, []int64{got[0].ID}); !errors.Is(err, outbox.ErrFenced) {
		t.Fatalf("mark by a superseded drainer = %v, want ErrFenced", err)
	}
	if m, _, _ := h.Store.Get(bg, got[0].ID); m.Status != outbox.Pending {
		t.Fatalf("refused mark changed the message: %+v", m)
	}
	if err := h.Store.MarkPublished(bg, "d", 6, []int64{got[0].ID}); err != nil {
		t.Fatal(err)
	}
	m, ok, err := h.Store.Get(bg, got[0].ID)
	if err != nil || !ok || m.Status != outbox.Published || m.PublishedAt.IsZero() {
		t.Fatalf("after mark: %+v, %v, %v", m, ok, err)
	}
	if rest := claim(t, h, 6, later(), 10); topics(rest) != "b" {
		t.Fatalf("claimed %q after publishing a, want b", topics(rest))
	}
}

func testFailBackoffAndKeyOrder(t *testing.T, h Harness) {
	mustEnqueue(t, h, msg("k1", "k", ""), msg("k2", "k", ""), msg("j1", "j", ""), msg("n1", "", ""), msg("n2", "", ""))
	got := claim(t, h, 1, later(), 10)
	if topics(got) != "k1,k2,j1,n1,n2" {
		t.Fatalf("claimed %q", topics(got))
	}
	retry := later().Add(time.Hour)
	if err := h.Store.MarkFailed(bg, "d", 1, got[0].ID, "broker down", retry, false); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.MarkFailed(bg, "d", 1, got[3].ID, "bad", retry, false); err != nil {
		t.Fatal(err)
	}
	// k1 waits out its backoff and holds back k2; j and the unkeyed n2 go on.
	if got := claim(t, h, 1, later(), 10); topics(got) != "j1,n2" {
		t.Fatalf("claimed %q during k1's backoff, want j1,n2", topics(got))
	}
	m, _, _ := h.Store.Get(bg, got[0].ID)
	if m.Attempts != 1 || m.LastError != "broker down" || m.Status != outbox.Pending {
		t.Fatalf("after a failure: %+v", m)
	}
	if got := claim(t, h, 1, retry, 10); topics(got) != "k1,k2,j1,n1,n2" {
		t.Fatalf("claimed %q after the backoff, want everything in order", topics(got))
	}
}

func testDeadLetter(t *testing.T, h Harness) {
	mustEnqueue(t, h, msg("poison", "k", ""), msg("next", "k", ""))
	got := claim(t, h, 1, later(), 10)
	if err := h.Store.MarkFailed(bg, "d", 1, got[0].ID, "schema mismatch", later(), true); err != nil {
		t.Fatal(err)
	}
	m, _, _ := h.Store.Get(bg, got[0].ID)
	if m.Status != outbox.Dead || m.LastError != "schema mismatch" || m.Attempts != 1 {
		t.Fatalf("dead letter = %+v", m)
	}
	// Dead messages are kept, not claimed, and no longer block their key.
	if got := claim(t, h, 1, later(), 10); topics(got) != "next" {
		t.Fatalf("claimed %q, want next", topics(got))
	}
}

func testRetention(t *testing.T, h Harness) {
	mustEnqueue(t, h, msg("old", "", ""), msg("pending", "", ""))
	got := claim(t, h, 1, later(), 10)
	if err := h.Store.MarkPublished(bg, "d", 1, []int64{got[0].ID}); err != nil {
		t.Fatal(err)
	}
	if n, err := h.Store.DeletePublished(bg, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("cleanup of nothing old enough = %d, %v", n, err)
	}
	if n, err := h.Store.DeletePublished(bg, later()); err != nil || n != 1 {
		t.Fatalf("cleanup = %d, %v; want 1", n, err)
	}
	if _, ok, _ := h.Store.Get(bg, got[0].ID); ok {
		t.Fatal("published message survived cleanup")
	}
	if _, ok, _ := h.Store.Get(bg, got[1].ID); !ok {
		t.Fatal("cleanup deleted a pending message")
	}
}

func testBadInput(t *testing.T, h Harness) {
	if err := h.Enqueue(t, true, msg("", "", "x")); !errors.Is(err, outbox.ErrInvalidMessage) || !strings.Contains(err.Error(), "topic") {
		t.Errorf("empty topic: %v", err)
	}
	big := outbox.Message{Topic: "big", Payload: make([]byte, h.MaxPayload+1)}
	if err := h.Enqueue(t, true, big); !errors.Is(err, outbox.ErrInvalidMessage) || !strings.Contains(err.Error(), "big") {
		t.Errorf("oversized payload: %v", err)
	}
	if err := h.EnqueueNoTx(); !errors.Is(err, outbox.ErrNoTransaction) {
		t.Errorf("no transaction: %v", err)
	}
	if got := claim(t, h, 1, later(), 10); len(got) != 0 {
		t.Errorf("rejected messages were stored: %q", topics(got))
	}
}
func testOperatorStats(t *testing.T, h Harness) {
	op := operator(t, h)
	if st := stats(t, op); st.Pending != 0 || st.Retrying != 0 || st.Dead != 0 || len(st.Drains) != 0 ||
		!st.OldestPendingAt.IsZero() || st.OldestPendingAge != 0 {
		t.Fatalf("empty store: %+v", st)
	}
	mustEnqueue(t, h, msg("retrying", "", ""), msg("dead", "", ""), msg("published", "", ""), msg("pending", "", ""))
	got := claim(t, h, 1, later(), 10)
	if _, err := h.Store.Claim(bg, "another", 1, later(), 1); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.MarkFailed(bg, "d", 1, got[0].ID, "x", later(), false); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.MarkFailed(bg, "d", 1, got[1].ID, "x", later(), true); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.MarkPublished(bg, "d", 1, []int64{got[2].ID}); err != nil {
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

func testOperatorDeadLetters(t *testing.T, h Harness) {
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

func testOperatorRequeue(t *testing.T, h Harness) {
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
	m, _, _ := h.Store.Get(bg, dead[0].ID)
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
func testOperatorRequeueRace(t *testing.T, h Harness) {
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
