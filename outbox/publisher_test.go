package outbox_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/outbox"
)

func TestWebhookPublisher(t *testing.T) {
	var gotBody, gotIdem, gotTopic, gotCT string
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody, gotIdem, gotTopic, gotCT = string(b), r.Header.Get("Idempotency-Key"), r.Header.Get("X-Outbox-Topic"), r.Header.Get("Content-Type")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("nope"))
	}))
	defer srv.Close()
	p, err := outbox.NewWebhookPublisher(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := outbox.Message{ID: 42, Topic: "report.ready", Payload: []byte(`{"day":"2026-12-01"}`), Headers: map[string]string{"Content-Type": "application/json"}}
	if err := p.Publish(context.Background(), m); err != nil {
		t.Fatalf("2xx: %v", err)
	}
	if gotBody != `{"day":"2026-12-01"}` || gotIdem != "42" || gotTopic != "report.ready" || gotCT != "application/json" {
		t.Fatalf("request: body %q, idempotency %q, topic %q, content-type %q", gotBody, gotIdem, gotTopic, gotCT)
	}
	status = http.StatusInternalServerError
	if err := p.Publish(context.Background(), m); err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("500: %v; want an error with the status and body", err)
	}
}

func TestWebhookTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	p, _ := outbox.NewWebhookPublisher(srv.URL, &http.Client{Timeout: 50 * time.Millisecond})
	err := p.Publish(context.Background(), outbox.Message{ID: 1, Topic: "t"})
	var timeout interface{ Timeout() bool }
	if !errors.As(err, &timeout) || !timeout.Timeout() {
		t.Fatalf("hung receiver: %v; want a timeout error", err)
	}
}

func TestWebhookBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "http://", "::nope"} {
		if _, err := outbox.NewWebhookPublisher(u, nil); !errors.Is(err, outbox.ErrConfig) {
			t.Errorf("NewWebhookPublisher(%q) = %v, want ErrConfig", u, err)
		}
	}
}
