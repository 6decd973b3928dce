package outbox

import (
	"context"
	"time"
)

// Store is the drain side of an outbox. Enqueueing is store-specific, because
// it must join the caller's own transaction (a pgx.Tx for Postgres, a
// MemoryTx for Memory).
//
// Every method that takes a drain name and token is fenced: the store
// remembers the highest token it has seen for that drain and refuses
// (ErrFenced) any call with a lower one, in the same transaction as the work.
type Store interface {
	// Claim returns up to limit pending messages available at now, in ID
	// order, leaving out any whose key has an earlier message still
	// waiting out a backoff.
	Claim(ctx context.Context, drain string, token uint64, now time.Time, limit int) ([]Message, error)
	// MarkPublished records delivery of ids.
	MarkPublished(ctx context.Context, drain string, token uint64, ids []int64) error
	// MarkFailed records a failed attempt of id: the message becomes
	// available again at retryAt, or Dead if dead is set.
	MarkFailed(ctx context.Context, drain string, token uint64, id int64, cause string, retryAt time.Time, dead bool) error
	// DeletePublished deletes messages published before before, and
	// returns how many it deleted.
	DeletePublished(ctx context.Context, before time.Time) (int64, error)
	// Get returns one message, for operators and tests.
	Get(ctx context.Context, id int64) (Message, bool, error)
}

// Notifier is implemented by stores that can say when messages were
// committed, so a drain wakes at once instead of at its next interval.
type Notifier interface {
	// Subscribe returns a channel that receives after commits, and a
	// function to stop the subscription.
	Subscribe() (<-chan struct{}, func())
}
