package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
)

// recordingPublisher records deliveries and fails the topics in fail.
type recordingPublisher struct {
	mu        sync.Mutex
	published map[int64]int
	order     []string
	fail      map[string]error
	notify    chan int64
}

func newRecordingPublisher() *recordingPublisher {
	return &recordingPublisher{published: map[int64]int{}, fail: map[string]error{}, notify: make(chan int64, 1000)}
}

func (p *recordingPublisher) Publish(_ context.Context, m outbox.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.fail[m.Topic]; err != nil {
		return err
	}
	p.published[m.ID]++
	p.order = append(p.order, m.Topic)
	p.notify <- m.ID
	return nil
}

func (p *recordingPublisher) setFail(topic string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		delete(p.fail, topic)
	} else {
		p.fail[topic] = err
	}
}

func (p *recordingPublisher) snapshot() (map[int64]int, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := map[int64]int{}
	for k, v := range p.published {
		m[k] = v
	}
	return m, append([]string(nil), p.order...)
}

// pass runs one drain pass under a fresh lease from l.
func pass(t *testing.T, l locks.Locks, d *outbox.Drainer) error {
	t.Helper()
	return l.WithLease(bg, d.LeaseKey(), locks.Options{TTL: 30 * time.Second}, d.Pass)
}

func TestDrainPublishesRetriesAndDeadLetters(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	store := outbox.NewMemory(outbox.MemoryClock(clock))
	l := locks.NewMemory(locks.WithClock(clock))
	pub := newRecordingPublisher()
	d, err := outbox.NewDrainer("orders", store, pub, clock, zaptest.NewLogger(t),
		outbox.MaxAttempts(3), outbox.Backoff(time.Second, time.Minute), outbox.BatchSize(2))
	if err != nil {
		t.Fatal(err)
	}
	tx := store.Begin()
	for _, m := range []outbox.Message{msg("a1", "a", ""), msg("a2", "a", ""), msg("b1", "b", ""), msg("c1", "", "")} {
		if err := store.Enqueue(bg, tx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	pub.setFail("a1", errors.New("broker down"))

	if err := pass(t, l, d); err != nil {
		t.Fatal(err)
	}
	// a1 failed and holds back a2; b1 and c1 went out (over two batches).
	if _, order := pub.snapshot(); fmt.Sprint(order) != "[b1 c1]" {
		t.Fatalf("published %v, want [b1 c1]", order)
	}
	a1, _, _ := store.Get(bg, 1)
	if a1.Attempts != 1 || a1.LastError != "broker down" || !a1.AvailableAt.Equal(clock.Now().Add(time.Second)) {
		t.Fatalf("a1 after one failure = %+v", a1)
	}
	// Second failure doubles the backoff; third dead-letters it.
	clock.Advance(time.Second)
	_ = pass(t, l, d)
	if a1, _, _ = store.Get(bg, 1); a1.Attempts != 2 || !a1.AvailableAt.Equal(clock.Now().Add(2*time.Second)) {
		t.Fatalf("a1 after two failures = %+v", a1)
	}
	clock.Advance(2 * time.Second)
	_ = pass(t, l, d)
	if a1, _, _ = store.Get(bg, 1); a1.Status != outbox.Dead || a1.Attempts != 3 {
		t.Fatalf("a1 after max attempts = %+v", a1)
	}
	// Dead-lettering a1 releases a2.
	_ = pass(t, l, d)
	published, order := pub.snapshot()
	if fmt.Sprint(order) != "[b1 c1 a2]" {
		t.Fatalf("published %v, want [b1 c1 a2]", order)
	}
	for id, n := range published {
		if n != 1 {
			t.Errorf("message %d published %d times", id, n)
		}
	}
}

func TestDrainRetentionCleanup(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	store := outbox.NewMemory(outbox.MemoryClock(clock))
	l := locks.NewMemory(locks.WithClock(clock))
	d, _ := outbox.NewDrainer("orders", store, newRecordingPublisher(), clock, nil, outbox.Retention(24*time.Hour))
	tx := store.Begin()
	_ = store.Enqueue(bg, tx, msg("old", "", ""))
	_ = tx.Commit()
	_ = pass(t, l, d)
	clock.Advance(25 * time.Hour)
	_ = pass(t, l, d)
	if _, ok, _ := store.Get(bg, 1); ok {
		t.Fatal("published message kept past retention")
	}
}

// pausingStore pauses a drainer between its claim and its publishing, as a
// long GC pause or SIGSTOP would.
type pausingStore struct {
	outbox.Store
	paused, resume chan struct{}
	claimed        []outbox.Message
}

func (s *pausingStore) Claim(ctx context.Context, drain string, token uint64, now time.Time, limit int) ([]outbox.Message, error) {
	msgs, err := s.Store.Claim(ctx, drain, token, now, limit)
	if err == nil && len(msgs) > 0 && s.paused != nil {
		s.claimed = msgs
		close(s.paused)
		<-s.resume
		s.paused = nil
	}
	return msgs, err
}

// A drainer paused past its TTL while another drains: when it resumes it
// publishes nothing, its writes are refused by the database, and every
// message is published and marked exactly once.
func TestPausedDrainerIsFencedOut(t *testing.T) {
	pool := testPool(t)
	store := newPostgres(t, pool)
	// Ahead of the database's clock, which stamps available_at.
	clock := clockwork.NewFakeClockAt(time.Now().Add(time.Hour))
	l := locks.NewMemory(locks.WithClock(clock))
	pub := newRecordingPublisher()
	log := zaptest.NewLogger(t)

	const rounds, perRound = 20, 5
	for round := 0; round < rounds; round++ {
		tx, _ := pool.Begin(bg)
		for i := 0; i < perRound; i++ {
			if _, err := store.Enqueue(bg, tx, msg(fmt.Sprintf("r%d-%d", round, i), "", "")); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(bg); err != nil {
			t.Fatal(err)
		}

		slow := &pausingStore{Store: store, paused: make(chan struct{}), resume: make(chan struct{})}
		a, _ := outbox.NewDrainer("d", slow, pub, clock, log)
		b, _ := outbox.NewDrainer("d", store, pub, clock, log)

		var aLease locks.Lease
		aDone := make(chan error, 1)
		go func() {
			aDone <- l.WithLease(bg, a.LeaseKey(), locks.Options{TTL: 10 * time.Second}, func(c context.Context, lease locks.Lease) error {
				aLease = lease
				return a.Pass(c, lease)
			})
		}()
		<-slow.paused
		clock.Advance(11 * time.Second) // A's lease expires while it is paused
		if err := pass(t, l, b); err != nil {
			t.Fatalf("round %d: B's pass: %v", round, err)
		}
		close(slow.resume)
		if err := <-aDone; !errors.Is(err, locks.ErrLeaseLost) {
			t.Fatalf("round %d: A's pass after the pause = %v, want ErrLeaseLost", round, err)
		}
		// Whatever A still tries to write with its old token, the
		// database refuses.
		ids := []int64{slow.claimed[0].ID}
		if err := store.MarkPublished(bg, "d", aLease.FencingToken(), ids); !errors.Is(err, outbox.ErrFenced) {
			t.Fatalf("round %d: A's stale mark = %v, want ErrFenced", round, err)
		}
		if _, err := store.Claim(bg, "d", aLease.FencingToken(), time.Now(), 10); !errors.Is(err, outbox.ErrFenced) {
			t.Fatalf("round %d: A's stale claim = %v, want ErrFenced", round, err)
		}
	}
	published, _ := pub.snapshot()
	if len(published) != rounds*perRound {
		t.Fatalf("%d messages published, want %d", len(published), rounds*perRound)
	}
	for id, n := range published {
		if n != 1 {
			t.Errorf("message %d published %d times", id, n)
		}
		m, _, _ := store.Get(bg, id)
		if m.Status != outbox.Published {
			t.Errorf("message %d: status %s", id, m.Status)
		}
	}
}
