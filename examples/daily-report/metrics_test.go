package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/beignet-go/beignet/metrics"
	"github.com/beignet-go/beignet/outbox"
)

// downStore is an outbox whose database cannot be reached.
type downStore struct{ outbox.Operator }

func (downStore) Stats(context.Context) (outbox.Stats, error) {
	return outbox.Stats{}, errors.New("connect: connection refused")
}

// With PostgreSQL down the outbox gauges cannot be read; /metrics still
// answers 200 with every other metric, so a database outage does not
// blind the dashboards and lease and run alerts.
func TestMetricsServedWhileOutboxUnreadable(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.WatchOutbox(downStore{}, "report-events")
	m.OnPublish("report-events", outbox.Message{}, outbox.OutcomePublished)
	srv := httptest.NewServer(metricsHandler(reg))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics with the outbox unreadable: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), metrics.NameOutboxPublished+`{drain="report-events",outcome="published"} 1`) {
		t.Errorf("/metrics lacks the publish counter:\n%s", body)
	}
	if strings.Contains(string(body), metrics.NameOutboxPending+"{") {
		t.Errorf("/metrics reports a pending count it could not read:\n%s", body)
	}
}
