package outbox

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/internal/wakes"
)

// Memory is an in-memory Store for tests and for running an app with no
// database. It coordinates one process only.
type Memory struct {
	clock      clockwork.Clock
	maxPayload int

	mu     sync.Mutex
	nextID int64
	msgs   map[int64]*Message
	fences map[string]uint64
	subs   fanout
}

// MemoryOption configures NewMemory.
type MemoryOption func(*Memory)

// MemoryClock sets the clock that stamps CreatedAt and PublishedAt.
func MemoryClock(c clockwork.Clock) MemoryOption { return func(m *Memory) { m.clock = c } }

// MemoryMaxPayload sets the largest payload accepted (default
// DefaultMaxPayload).
func MemoryMaxPayload(n int) MemoryOption { return func(m *Memory) { m.maxPayload = n } }

// NewMemory returns an empty in-memory store.
func NewMemory(opts ...MemoryOption) *Memory {
	m := &Memory{
		clock:      clockwork.NewRealClock(),
		maxPayload: DefaultMaxPayload,
		msgs:       make(map[int64]*Message),
		fences:     make(map[string]uint64),
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

var (
	_ Store    = (*Memory)(nil)
	_ Notifier = (*Memory)(nil)
)

// MemoryTx is a transaction on a Memory store: what is enqueued in it
// becomes visible on Commit and is discarded on Rollback. Business data kept
// in memory is committed alongside by the caller (see OnCommit).
type MemoryTx struct {
	m        *Memory
	pending  []Message
	onCommit []func()
	done     bool
}

// Begin starts a transaction.
func (m *Memory) Begin() *MemoryTx { return &MemoryTx{m: m} }

// OnCommit runs f when tx commits, so in-memory business writes commit or
// roll back together with the messages.
func (tx *MemoryTx) OnCommit(f func()) { tx.onCommit = append(tx.onCommit, f) }

// Commit makes the transaction's messages visible and wakes drains.
func (tx *MemoryTx) Commit() error {
	if tx.done {
		return fmt.Errorf("outbox: memory transaction already finished")
	}
	tx.done = true
	m := tx.m
	m.mu.Lock()
	now := m.clock.Now()
	for _, msg := range tx.pending {
		m.nextID++
		msg.ID = m.nextID
		msg.CreatedAt, msg.AvailableAt, msg.Status = now, now, Pending
		m.msgs[msg.ID] = &msg
	}
	m.mu.Unlock()
	m.subs.wake(wakes.For(m.clock))
	for _, f := range tx.onCommit {
		f()
	}
	return nil
}

// Rollback discards the transaction. It is a no-op after Commit.
func (tx *MemoryTx) Rollback() { tx.done = true }

// Enqueue adds msg to tx. The message exists once tx commits.
func (m *Memory) Enqueue(ctx context.Context, tx *MemoryTx, msg Message) error {
	if tx == nil || tx.m != m {
		return ErrNoTransaction
	}
	if tx.done {
		return fmt.Errorf("%w: the transaction has already finished", ErrNoTransaction)
	}
	if err := msg.validate(m.maxPayload); err != nil {
		return err
	}
	msg.Payload = slices.Clone(msg.Payload)
	msg.Headers = maps.Clone(withTraceContext(ctx, msg.Headers))
	tx.pending = append(tx.pending, msg)
	return nil
}

// fence records token for drain, refusing a lower one. m.mu must be held.
func (m *Memory) fenceLocked(drain string, token uint64) error {
	if last, ok := m.fences[drain]; ok && token < last {
		return fmt.Errorf("%w: drain %q: token %d, the store has seen %d", ErrFenced, drain, token, last)
	}
	m.fences[drain] = token
	return nil
}

// checkLocked refuses token unless it is the newest seen for drain.
func (m *Memory) checkLocked(drain string, token uint64) error {
	if last, ok := m.fences[drain]; !ok || token < last {
		return fmt.Errorf("%w: drain %q: token %d, the store has seen %d", ErrFenced, drain, token, last)
	}
	return nil
}

// Claim implements Store.
func (m *Memory) Claim(_ context.Context, drain string, token uint64, now time.Time, limit int) ([]Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fenceLocked(drain, token); err != nil {
		return nil, err
	}
	ids := slices.Sorted(maps.Keys(m.msgs))
	backoff := map[string]bool{} // keys with an earlier message in backoff
	var out []Message
	for _, id := range ids {
		msg := m.msgs[id]
		if msg.Status != Pending {
			continue
		}
		if msg.AvailableAt.After(now) {
			if msg.Key != "" {
				backoff[msg.Key] = true
			}
			continue
		}
		if msg.Key != "" && backoff[msg.Key] {
			continue
		}
		out = append(out, copyMessage(msg))
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

func copyMessage(msg *Message) Message {
	c := *msg
	c.Payload = slices.Clone(msg.Payload)
	c.Headers = maps.Clone(msg.Headers)
	return c
}

// MarkPublished implements Store.
func (m *Memory) MarkPublished(_ context.Context, drain string, token uint64, ids []int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkLocked(drain, token); err != nil {
		return err
	}
	now := m.clock.Now()
	for _, id := range ids {
		if msg, ok := m.msgs[id]; ok && msg.Status == Pending {
			msg.Status, msg.PublishedAt = Published, now
		}
	}
	return nil
}

// MarkFailed implements Store.
func (m *Memory) MarkFailed(_ context.Context, drain string, token uint64, id int64, cause string, retryAt time.Time, dead bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkLocked(drain, token); err != nil {
		return err
	}
	msg, ok := m.msgs[id]
	if !ok || msg.Status != Pending {
		return nil
	}
	msg.Attempts++
	msg.LastError = cause
	msg.AvailableAt = retryAt
	if dead {
		msg.Status = Dead
	}
	return nil
}

// DeletePublished implements Store.
func (m *Memory) DeletePublished(_ context.Context, before time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for id, msg := range m.msgs {
		if msg.Status == Published && msg.PublishedAt.Before(before) {
			delete(m.msgs, id)
			n++
		}
	}
	return n, nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, id int64) (Message, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	msg, ok := m.msgs[id]
	if !ok {
		return Message{}, false, nil
	}
	return copyMessage(msg), true, nil
}

// Subscribe implements Notifier.
func (m *Memory) Subscribe() (<-chan struct{}, func()) { return m.subs.subscribe() }
