package outbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Operator is implemented by stores that an operator can inspect and steer:
// the beignet CLI and the admin page use it. Both stores implement it.
type Operator interface {
	// Stats counts the store's backlog.
	Stats(ctx context.Context) (Stats, error)
	// DeadLetters returns up to limit dead messages, newest first.
	// limit must be > 0.
	DeadLetters(ctx context.Context, limit int) ([]Message, error)
	// Requeue makes the dead messages ids pending again, available at
	// once with their attempt count reset, and wakes the drains. It is all
	// or nothing: when one id is unknown (ErrUnknownMessage) or not dead
	// (ErrNotDead), nothing changes and the error names that id.
	Requeue(ctx context.Context, ids ...int64) error
	// RequeueDead requeues every dead message and returns how many.
	RequeueDead(ctx context.Context) (int64, error)
}

// Stats is a store's backlog. Every drain of a store publishes all of its
// messages, so the counts are the backlog of each drain in Drains.
type Stats struct {
	// Drains are the drains that have claimed from the store, by name.
	Drains []string
	// Pending counts messages waiting for their first publish attempt.
	Pending int64
	// Retrying counts messages that failed and wait for another attempt.
	Retrying int64
	// Dead counts dead letters.
	Dead int64
	// OldestPendingAt is when the oldest pending or retrying message was
	// enqueued; zero when there is none.
	OldestPendingAt time.Time
	// OldestPendingAge is how long ago that was, by the store's clock
	// (the database's for PostgreSQL); 0 when there is none.
	OldestPendingAge time.Duration
}

var (
	// ErrUnknownMessage means no message has the given id.
	ErrUnknownMessage = errors.New("outbox: unknown message")
	// ErrNotDead means the message exists but is not a dead letter, so it
	// cannot be requeued.
	ErrNotDead = errors.New("outbox: message is not dead")
	// ErrInvalidLimit means a list was asked for zero or fewer entries.
	ErrInvalidLimit = errors.New("outbox: invalid limit")
)

var (
	_ Operator = (*Postgres)(nil)
	_ Operator = (*Memory)(nil)
)

func validateLimit(limit int) error {
	if limit <= 0 {
		return fmt.Errorf("%w: %d, want > 0", ErrInvalidLimit, limit)
	}
	return nil
}

// requeueError explains why ids could not all be requeued: status maps the
// ids that exist to their status.
func requeueError(ids []int64, status map[int64]Status) error {
	for _, id := range ids {
		s, ok := status[id]
		if !ok {
			return fmt.Errorf("%w: id %d", ErrUnknownMessage, id)
		}
		if s != Dead {
			return fmt.Errorf("%w: id %d is %s", ErrNotDead, id, s)
		}
	}
	return nil
}

// uniqueIDs sorts ids and drops repeats, so that a repeated id is not
// mistaken for a missing one.
func uniqueIDs(ids []int64) []int64 {
	return slices.Compact(slices.Sorted(slices.Values(ids)))
}
