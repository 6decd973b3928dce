package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/scheduler"
)

// With an hour-long interval, only the commit's NOTIFY can make the drain
// publish: the message goes out without any time passing on the interval.
func TestNotifyWakesTheDrain(t *testing.T) {
	pool := testPool(t)
	store := newPostgres(t, pool)
	pub := newRecordingPublisher()
	clock := clockwork.NewRealClock()
	log := zaptest.NewLogger(t)
	d, err := outbox.NewDrainer("orders", store, pub, clock, log, outbox.Interval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wake, unsubscribe := store.Subscribe()
	defer unsubscribe()
	s := scheduler.New(&ctx.Ports{Locks: locks.NewMemory(), Clock: clock, Logger: log})
	if err := s.AddTask(d.Task(wake)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())

	// The listener wakes the drain once when it starts listening; let that
	// pass go by before enqueueing.
	for i := 0; i < 3; i++ {
		tx, _ := pool.Begin(bg)
		id, err := store.Enqueue(bg, tx, msg("report.ready", "", "{}"))
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(bg); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-pub.notify:
			if got != id {
				t.Fatalf("published %d, want %d", got, id)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("message %d not published: NOTIFY did not wake the drain", id)
		}
	}
}
