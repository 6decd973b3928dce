package outbox_test

import (
	"context"
	"time"

	"github.com/beignet-go/beignet/outbox"
)

// The store conformance suite is outbox/outboxtest; these are the few
// helpers the package's other tests share.

var bg = context.Background()

func msg(topic, key, payload string) outbox.Message {
	return outbox.Message{Topic: topic, Key: key, Payload: []byte(payload), Headers: map[string]string{"h": topic}}
}

// later is a claim time comfortably after anything the stores stamp.
func later() time.Time { return time.Now().Add(time.Hour) }
