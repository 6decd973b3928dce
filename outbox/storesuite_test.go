package outbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/outbox"
)

// storeHarness adapts a store to the shared suite: enqueueing is
// store-specific (it joins the store's own kind of transaction).
type storeHarness struct {
	store outbox.Store
	// enqueue commits msgs in one transaction, or rolls it back, and
	// returns the ids (0 where rolled back and unknown).
	enqueue func(t *testing.T, commit bool, msgs ...outbox.Message) error
	// enqueueNoTx calls Enqueue without a transaction.
	enqueueNoTx func() error
	maxPayload  int
}

func runStoreSuite(t *testing.T, newHarness func(t *testing.T) storeHarness) {
	cases := map[string]func(t *testing.T, h storeHarness){
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
		t.Run(name, func(t *testing.T) { fn(t, newHarness(t)) })
	}
}

var bg = context.Background()

func msg(topic, key, payload string) outbox.Message {
	return outbox.Message{Topic: topic, Key: key, Payload: []byte(payload), Headers: map[string]string{"h": topic}}
}

func mustEnqueue(t *testing.T, h storeHarness, msgs ...outbox.Message) {
	t.Helper()
	if err := h.enqueue(t, true, msgs...); err != nil {
		t.Fatal(err)
	}
}

func claim(t *testing.T, h storeHarness, token uint64, now time.Time, limit int) []outbox.Message {
	t.Helper()
	got, err := h.store.Claim(bg, "d", token, now, limit)
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

// later is a claim time comfortably after anything the stores stamp.
func later() time.Time { return time.Now().Add(time.Hour) }

func testCommitAndRollback(t *testing.T, h storeHarness) {
	mustEnqueue(t, h, msg("a", "", "1"), msg("b", "", "2"))
	if err := h.enqueue(t, false, msg("rolled-back", "", "x")); err != nil {
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

func testClaimOrderAndLimit(t *testing.T, h storeHarness) {
	mustEnqueue(t, h, msg("1", "k", ""), msg("2", "", ""), msg("3", "k", ""), msg("4", "j", ""))
	if got := claim(t, h, 1, later(), 3); topics(got) != "1,2,3" {
		t.Fatalf("claimed %q, want 1,2,3", topics(got))
	}
	// Not yet available: nothing.
	if got := claim(t, h, 1, time.Now().Add(-time.Hour), 10); len(got) != 0 {
		t.Fatalf("claimed %q before the messages were available", topics(got))
	}
}

func testFencing(t *testing.T, h storeHarness) {
	mustEnqueue(t, h, msg("a", "", ""), msg("b", "", ""))
	got := claim(t, h, 5, later(), 10)
	if _, err := h.store.Claim(bg, "d", 4, later(), 10); !errors.Is(err, outbox.ErrFenced) {
		t.Fatalf("claim with an older token = %v, want ErrFenced", err)
	}
	if err := h.store.MarkPublished(bg, "d", 4, []int64{got[0].ID}); !errors.Is(err, outbox.ErrFenced) {
		t.Fatalf("mark with an older token = %v, want ErrFenced", err)
	}
	if err := h.store.MarkFailed(bg, "d", 4, got[0].ID, "x", later(), false); !errors.Is(err, outbox.ErrFenced) {
		t.Fatalf("mark failed with an older token = %v, want ErrFenced", err)
	}
	// Another drain name has its own fence.
	if _, err := h.store.Claim(bg, "other", 1, later(), 10); err != nil {
		t.Fatalf("claim on another drain: %v", err)
	}
	// A newer drainer takes over: the old token's mark is refused and the
	// message stays pending for the new one.
	claim(t, h, 6, later(), 10)
	if err := h.store.MarkPublished(bg, "d", 5, []int64{got[0].ID}); !errors.Is(err, outbox.ErrFenced) {
		t.Fatalf("mark by a superseded drainer = %v, want ErrFenced", err)
	}
	if m, _, _ := h.store.Get(bg, got[0].ID); m.Status != outbox.Pending {
		t.Fatalf("refused mark changed the message: %+v", m)
	}
	if err := h.store.MarkPublished(bg, "d", 6, []int64{got[0].ID}); err != nil {
		t.Fatal(err)
	}
	m, ok, err := h.store.Get(bg, got[0].ID)
	if err != nil || !ok || m.Status != outbox.Published || m.PublishedAt.IsZero() {
		t.Fatalf("after mark: %+v, %v, %v", m, ok, err)
	}
	if rest := claim(t, h, 6, later(), 10); topics(rest) != "b" {
		t.Fatalf("claimed %q after publishing a, want b", topics(rest))
	}
}

func testFailBackoffAndKeyOrder(t *testing.T, h storeHarness) {
	mustEnqueue(t, h, msg("k1", "k", ""), msg("k2", "k", ""), msg("j1", "j", ""), msg("n1", "", ""), msg("n2", "", ""))
	got := claim(t, h, 1, later(), 10)
	if topics(got) != "k1,k2,j1,n1,n2" {
		t.Fatalf("claimed %q", topics(got))
	}
	retry := later().Add(time.Hour)
	if err := h.store.MarkFailed(bg, "d", 1, got[0].ID, "broker down", retry, false); err != nil {
		t.Fatal(err)
	}
	if err := h.store.MarkFailed(bg, "d", 1, got[3].ID, "bad", retry, false); err != nil {
		t.Fatal(err)
	}
	// k1 waits out its backoff and holds back k2; j and the unkeyed n2 go on.
	if got := claim(t, h, 1, later(), 10); topics(got) != "j1,n2" {
		t.Fatalf("claimed %q during k1's backoff, want j1,n2", topics(got))
	}
	m, _, _ := h.store.Get(bg, got[0].ID)
	if m.Attempts != 1 || m.LastError != "broker down" || m.Status != outbox.Pending {
		t.Fatalf("after a failure: %+v", m)
	}
	if got := claim(t, h, 1, retry, 10); topics(got) != "k1,k2,j1,n1,n2" {
		t.Fatalf("claimed %q after the backoff, want everything in order", topics(got))
	}
}

func testDeadLetter(t *testing.T, h storeHarness) {
	mustEnqueue(t, h, msg("poison", "k", ""), msg("next", "k", ""))
	got := claim(t, h, 1, later(), 10)
	if err := h.store.MarkFailed(bg, "d", 1, got[0].ID, "schema mismatch", later(), true); err != nil {
		t.Fatal(err)
	}
	m, _, _ := h.store.Get(bg, got[0].ID)
	if m.Status != outbox.Dead || m.LastError != "schema mismatch" || m.Attempts != 1 {
		t.Fatalf("dead letter = %+v", m)
	}
	// Dead messages are kept, not claimed, and no longer block their key.
	if got := claim(t, h, 1, later(), 10); topics(got) != "next" {
		t.Fatalf("claimed %q, want next", topics(got))
	}
}

func testRetention(t *testing.T, h storeHarness) {
	mustEnqueue(t, h, msg("old", "", ""), msg("pending", "", ""))
	got := claim(t, h, 1, later(), 10)
	if err := h.store.MarkPublished(bg, "d", 1, []int64{got[0].ID}); err != nil {
		t.Fatal(err)
	}
	if n, err := h.store.DeletePublished(bg, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("cleanup of nothing old enough = %d, %v", n, err)
	}
	if n, err := h.store.DeletePublished(bg, later()); err != nil || n != 1 {
		t.Fatalf("cleanup = %d, %v; want 1", n, err)
	}
	if _, ok, _ := h.store.Get(bg, got[0].ID); ok {
		t.Fatal("published message survived cleanup")
	}
	if _, ok, _ := h.store.Get(bg, got[1].ID); !ok {
		t.Fatal("cleanup deleted a pending message")
	}
}

func testBadInput(t *testing.T, h storeHarness) {
	if err := h.enqueue(t, true, msg("", "", "x")); !errors.Is(err, outbox.ErrInvalidMessage) || !strings.Contains(err.Error(), "topic") {
		t.Errorf("empty topic: %v", err)
	}
	big := outbox.Message{Topic: "big", Payload: make([]byte, h.maxPayload+1)}
	if err := h.enqueue(t, true, big); !errors.Is(err, outbox.ErrInvalidMessage) || !strings.Contains(err.Error(), "big") {
		t.Errorf("oversized payload: %v", err)
	}
	if err := h.enqueueNoTx(); !errors.Is(err, outbox.ErrNoTransaction) {
		t.Errorf("no transaction: %v", err)
	}
	if got := claim(t, h, 1, later(), 10); len(got) != 0 {
		t.Errorf("rejected messages were stored: %q", topics(got))
	}
}
