// Package outbox is a transactional outbox: messages are written in the same
// database transaction as the business change that caused them, and drained
// to a Publisher by one lease holder at a time.
//
// A lease reduces duplicate work; the database stays the source of truth.
// Every drain pass hands its lease's fencing token to the store, which keeps
// the highest token it has seen per drain and refuses claims and marks that
// carry a lower one, so a drainer paused past its TTL cannot mark or claim
// anything. Delivery is at least once and ordered per key: consumers must
// deduplicate by Message.ID.
package outbox

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Status is where a message is in its life.
type Status string

// Statuses.
const (
	// Pending messages wait to be published (possibly after a backoff).
	Pending Status = "pending"
	// Published messages were delivered; retention cleanup deletes them.
	Published Status = "published"
	// Dead messages failed MaxAttempts times. They keep their last error
	// and stay until an operator acts; they no longer block their key.
	Dead Status = "dead"
)

// Message is one outbox entry.
type Message struct {
	// ID is assigned by the store and is what consumers deduplicate by.
	// Among messages with the same key it increases with commit order.
	ID int64
	// Topic says what happened, e.g. "report.ready". Required.
	Topic string
	// Key orders messages: those with the same non-empty key are
	// published in the order their transactions committed (their ID
	// order), and a failing one holds back the rest.
	Key string
	// Payload is the message body.
	Payload []byte
	// Headers travel with the payload. When Enqueue's ctx carries an
	// OpenTelemetry span, Enqueue adds its W3C trace context
	// ("traceparent", "tracestate") unless traceparent is already set, and
	// the publish joins that trace.
	Headers map[string]string

	// CreatedAt is when the message was enqueued.
	CreatedAt time.Time
	// AvailableAt is the earliest time it may be published (backoff).
	AvailableAt time.Time
	// Attempts counts failed publish attempts so far.
	Attempts int
	// Status is Pending, Published or Dead.
	Status Status
	// LastError is the latest failed attempt's error.
	LastError string
	// PublishedAt is when it was delivered; zero unless Published.
	PublishedAt time.Time
}

// DefaultMaxPayload is the largest payload Enqueue accepts unless configured.
const DefaultMaxPayload = 1 << 20

var (
	// ErrInvalidMessage is wrapped by every error about a message's content.
	ErrInvalidMessage = errors.New("outbox: invalid message")
	// ErrNoTransaction means Enqueue was called without a transaction: a
	// message must commit or roll back with the business write.
	ErrNoTransaction = errors.New("outbox: enqueue needs the caller's transaction")
	// ErrFenced means a claim or mark carried a fencing token older than
	// one the store has already seen for that drain: the caller's lease
	// was taken over and it must stop.
	ErrFenced = errors.New("outbox: stale fencing token")
	// ErrConfig is wrapped by configuration errors; the message names the
	// variable or option.
	ErrConfig = errors.New("outbox: bad configuration")
)

// validate checks what Enqueue accepts.
func (m *Message) validate(maxPayload int) error {
	switch {
	case m.Topic == "":
		return fmt.Errorf("%w: empty topic", ErrInvalidMessage)
	case !utf8.ValidString(m.Topic) || !utf8.ValidString(m.Key):
		return fmt.Errorf("%w: topic %q or key %q is not valid UTF-8", ErrInvalidMessage, m.Topic, m.Key)
	case len(m.Payload) > maxPayload:
		return fmt.Errorf("%w: topic %q: payload of %d bytes is over the %d-byte limit", ErrInvalidMessage, m.Topic, len(m.Payload), maxPayload)
	}
	for k, v := range m.Headers {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("%w: topic %q: header %q is not valid UTF-8", ErrInvalidMessage, m.Topic, k)
		}
	}
	return nil
}
