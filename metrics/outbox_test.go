package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/metrics"
	"github.com/beignet-go/beignet/outbox"
)

// A drain with a dead letter: one message is published, one fails twice
// (a retry, then dead with MaxAttempts 2), and one enqueued later waits.
// The registry counts each attempt's outcome and reads the backlog from
// the store at scrape time.
func TestOutboxMetrics(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	store := outbox.NewMemory(outbox.MemoryClock(clock))
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.WatchOutbox(store, "events")
	pub := outbox.PublisherFunc(func(_ context.Context, msg outbox.Message) error {
		if msg.Topic == "poison" {
			return errors.New("rejected")
		}
		return nil
	})
	d, err := outbox.NewDrainer("events", store, pub, clock, nil,
		outbox.MaxAttempts(2), outbox.Backoff(time.Second, time.Second), outbox.WithPublishHook(m))
	if err != nil {
		t.Fatal(err)
	}
	enqueue := func(topic string) {
		t.Helper()
		tx := store.Begin()
		if err := store.Enqueue(context.Background(), tx, outbox.Message{Topic: topic}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	lm := locks.NewMemory(locks.WithClock(clock))
	pass := func() {
		t.Helper()
		if err := lm.WithLease(context.Background(), d.LeaseKey(), locks.Options{TTL: time.Minute}, d.Pass); err != nil {
			t.Fatal(err)
		}
	}

	// Before the drain's first claim the store knows no drain; the
	// configured name still reports.
	if err := testutil.CollectAndCompare(reg, strings.NewReader(`
# HELP beignet_outbox_pending Messages waiting to be published, first attempt or retry.
# TYPE beignet_outbox_pending gauge
beignet_outbox_pending{drain="events"} 0
`), metrics.NameOutboxPending); err != nil {
		t.Error(err)
	}

	enqueue("ok")
	enqueue("poison")
	pass()
	clock.Advance(time.Second)
	pass()
	enqueue("late")
	clock.Advance(5 * time.Second)

	want := `
# HELP beignet_outbox_published_total Publish attempts of each outbox drain on this instance, by outcome (published, retry, dead).
# TYPE beignet_outbox_published_total counter
beignet_outbox_published_total{drain="events",outcome="dead"} 1
beignet_outbox_published_total{drain="events",outcome="published"} 1
beignet_outbox_published_total{drain="events",outcome="retry"} 1
# HELP beignet_outbox_pending Messages waiting to be published, first attempt or retry.
# TYPE beignet_outbox_pending gauge
beignet_outbox_pending{drain="events"} 1
# HELP beignet_outbox_oldest_pending_age_seconds Age of the oldest message waiting to be published; 0 when none waits.
# TYPE beignet_outbox_oldest_pending_age_seconds gauge
beignet_outbox_oldest_pending_age_seconds{drain="events"} 5
# HELP beignet_outbox_dead Dead-lettered messages, waiting for an operator.
# TYPE beignet_outbox_dead gauge
beignet_outbox_dead{drain="events"} 1
`
	if err := testutil.CollectAndCompare(reg, strings.NewReader(want),
		metrics.NameOutboxPublished, metrics.NameOutboxPending, metrics.NameOutboxOldestAge, metrics.NameOutboxDead); err != nil {
		t.Error(err)
	}
}

// A store that cannot be read fails the scrape instead of reporting an
// empty outbox.
func TestOutboxStatsErrorFailsScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.WatchOutbox(brokenStore{})
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "database is down") {
		t.Errorf("Gather = %v, want the store's error", err)
	}
}

type brokenStore struct{ outbox.Operator }

func (brokenStore) Stats(context.Context) (outbox.Stats, error) {
	return outbox.Stats{}, errors.New("database is down")
}
