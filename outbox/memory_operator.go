package outbox

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/beignet-go/beignet/internal/wakes"
)

// Stats implements Operator.
func (m *Memory) Stats(context.Context) (Stats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := Stats{Drains: slices.Sorted(maps.Keys(m.fences))}
	for _, msg := range m.msgs {
		switch {
		case msg.Status == Dead:
			st.Dead++
		case msg.Status != Pending:
			continue
		case msg.Attempts == 0:
			st.Pending++
		default:
			st.Retrying++
		}
		if msg.Status == Pending && (st.OldestPendingAt.IsZero() || msg.CreatedAt.Before(st.OldestPendingAt)) {
			st.OldestPendingAt = msg.CreatedAt
		}
	}
	if !st.OldestPendingAt.IsZero() {
		st.OldestPendingAge = max(m.clock.Since(st.OldestPendingAt), 0)
	}
	return st, nil
}

// DeadLetters implements Operator.
func (m *Memory) DeadLetters(_ context.Context, limit int) ([]Message, error) {
	if err := validateLimit(limit); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Message
	for _, msg := range m.msgs {
		if msg.Status == Dead {
			out = append(out, copyMessage(msg))
		}
	}
	slices.SortFunc(out, func(a, b Message) int { return cmp.Compare(b.ID, a.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Requeue implements Operator.
func (m *Memory) Requeue(_ context.Context, ids ...int64) error {
	ids = uniqueIDs(ids)
	if len(ids) == 0 {
		return nil
	}
	m.mu.Lock()
	status := make(map[int64]Status, len(ids))
	for _, id := range ids {
		if msg, ok := m.msgs[id]; ok {
			status[id] = msg.Status
		}
	}
	if err := requeueError(ids, status); err != nil {
		m.mu.Unlock()
		return err
	}
	now := m.clock.Now()
	for _, id := range ids {
		requeue(m.msgs[id], now)
	}
	m.mu.Unlock()
	m.subs.wake(wakes.For(m.clock))
	return nil
}

// RequeueDead implements Operator.
func (m *Memory) RequeueDead(context.Context) (int64, error) {
	m.mu.Lock()
	now := m.clock.Now()
	var n int64
	for _, msg := range m.msgs {
		if msg.Status == Dead {
			requeue(msg, now)
			n++
		}
	}
	m.mu.Unlock()
	if n > 0 {
		m.subs.wake(wakes.For(m.clock))
	}
	return n, nil
}

// requeue gives a dead message a fresh set of attempts. Its last error is
// kept, so the operator can still see why it died.
func requeue(msg *Message, now time.Time) {
	msg.Status, msg.Attempts, msg.AvailableAt = Pending, 0, now
}
