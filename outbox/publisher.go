package outbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// Publisher delivers one message. A nil error means delivered; the drain
// marks it published. Delivery is at least once: a message can be published
// again if the drainer stops between publishing and marking.
type Publisher interface {
	Publish(ctx context.Context, msg Message) error
}

// PublisherFunc adapts a function to Publisher.
type PublisherFunc func(ctx context.Context, msg Message) error

// Publish implements Publisher.
func (f PublisherFunc) Publish(ctx context.Context, msg Message) error { return f(ctx, msg) }

// LogPublisher "delivers" by logging each message: for development and for
// seeing an outbox work before wiring a real transport.
type LogPublisher struct {
	// Logger receives one line per message.
	Logger *zap.Logger
}

// Publish implements Publisher.
func (p LogPublisher) Publish(_ context.Context, msg Message) error {
	p.Logger.Info("outbox: published",
		zap.Int64("id", msg.ID), zap.String("topic", msg.Topic), zap.String("key", msg.Key),
		zap.Int("bytes", len(msg.Payload)), zap.Int("attempt", msg.Attempts+1))
	return nil
}

// WebhookPublisher POSTs each message's payload to a URL. A 2xx response
// means delivered; anything else, or no response within the timeout, is a
// failed attempt that the drain retries with backoff.
//
// The request carries Idempotency-Key (the message id, for the receiver to
// deduplicate on), X-Outbox-Topic, X-Outbox-Key, and the message's headers.
type WebhookPublisher struct {
	url    string
	client *http.Client
}

// DefaultWebhookTimeout bounds one delivery attempt.
const DefaultWebhookTimeout = 10 * time.Second

// NewWebhookPublisher returns a publisher for an http:// or https:// URL.
// A nil client gets one with DefaultWebhookTimeout.
func NewWebhookPublisher(rawURL string, client *http.Client) (*WebhookPublisher, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: webhook URL %q: want http:// or https:// with a host", ErrConfig, rawURL)
	}
	if client == nil {
		client = &http.Client{Timeout: DefaultWebhookTimeout}
	}
	return &WebhookPublisher{url: u.String(), client: client}, nil
}

// Publish implements Publisher.
func (p *WebhookPublisher) Publish(ctx context.Context, msg Message) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(msg.Payload))
	if err != nil {
		return fmt.Errorf("outbox: webhook request for message %d: %w", msg.ID, err)
	}
	for k, v := range msg.Headers {
		req.Header.Set(k, v)
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	req.Header.Set("Idempotency-Key", strconv.FormatInt(msg.ID, 10))
	req.Header.Set("X-Outbox-Topic", msg.Topic)
	if msg.Key != "" {
		req.Header.Set("X-Outbox-Key", msg.Key)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("outbox: webhook for message %d: %w", msg.ID, err)
	}
	defer resp.Body.Close()
	// Read a little of the body: it explains a failure, and draining it
	// lets the connection be reused.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("outbox: webhook for message %d: %s: %q", msg.ID, resp.Status, body)
	}
	return nil
}
