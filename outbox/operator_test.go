package outbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/outbox/outboxtest"
)

// deadLetters enqueues topics and kills each of them, in order.
func deadLetters(t *testing.T, h outboxtest.Harness, topics ...string) []outbox.Message {
	t.Helper()
	var msgs []outbox.Message
	for _, tp := range topics {
		msgs = append(msgs, msg(tp, "", ""))
	}
	if err := h.Enqueue(t, true, msgs...); err != nil {
		t.Fatal(err)
	}
	got, err := h.Store.Claim(bg, "d", 1, later(), len(topics))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got {
		if err := h.Store.MarkFailed(bg, "d", 1, m.ID, "broke", later(), true); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

// A requeue wakes the drains, as an enqueue does, so a requeued dead
// letter goes out at once rather than at the drain's next interval.
func TestRequeueWakesTheDrains(t *testing.T) {
	for name, c := range map[string]struct {
		harness func(*testing.T) outboxtest.Harness
		// listens: the PostgreSQL listener wakes everyone once when it
		// has connected; a wake-up means something only after that.
		listens bool
	}{"postgres": {pgHarness, true}, "memory": {memHarness, false}} {
		t.Run(name, func(t *testing.T) {
			h := c.harness(t)
			dead := deadLetters(t, h, "one", "two")
			wake, stop := h.Store.(outbox.Notifier).Subscribe()
			defer stop()
			if c.listens {
				waitWake(t, wake, "the listener to connect")
			}
			op := h.Store.(outbox.Operator)
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
	op := pgHarness(t).Store.(outbox.Operator)
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
