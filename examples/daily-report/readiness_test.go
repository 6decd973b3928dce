package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/health"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/metrics"
)

// probe GETs url once.
func probe(t *testing.T, url string) (int, health.Status, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var st health.Status
	_ = json.Unmarshal(body, &st)
	return resp.StatusCode, st, string(body)
}

// waitStatus probes url until it answers code, failing after within.
func waitStatus(t *testing.T, url string, code int, within time.Duration) (time.Duration, health.Status) {
	t.Helper()
	began := time.Now()
	for {
		got, st, body := probe(t, url)
		if got == code {
			return time.Since(began), st
		}
		if time.Since(began) > within {
			t.Fatalf("%s still answers %d %s after %v, want %d", url, got, body, within, code)
		}
		// Each probe waits on the server; between probes only a short
		// pause, so the first answer after the change is seen promptly.
		<-time.After(20 * time.Millisecond)
	}
}

// The app's own Redis stops under it: /readyz answers 503 naming redis
// within 2 s, /livez stays 200, and /readyz is 200 again once Redis is
// back. /metrics serves Beignet's metrics throughout.
func TestReadyzFollowsRedis(t *testing.T) {
	redis := redistest.Start(t)
	t.Setenv("REDIS_LOCKS_URL", "redis://"+redis.Addr())
	t.Setenv("DATABASE_URL", "")
	var srv *HTTPServer
	app := beignet.New(append(Providers(Config{Instance: "probe-test", HTTPAddr: "127.0.0.1:0"}),
		fx.Decorate(func(*zap.Logger) *zap.Logger { return zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel+1)) }),
		fx.Populate(&srv))...)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = app.Stop(sctx)
	})
	readyz := srv.URL() + "/readyz"
	_, st := waitStatus(t, readyz, http.StatusOK, 10*time.Second)
	for _, want := range []string{"redis", "scheduler", "lease-renewals"} {
		if st.Checks[want] != "ok" {
			t.Errorf("ready, but check %q is %q (checks %v)", want, st.Checks[want], st.Checks)
		}
	}

	redis.Stop()
	took, st := waitStatus(t, readyz, http.StatusServiceUnavailable, 2*time.Second)
	t.Logf("/readyz went 503 %v after Redis stopped: %+v", took, st)
	if !slices.Contains(st.Failing, "redis") || st.Status != "unavailable" {
		t.Errorf("503 body %+v does not name redis", st)
	}
	if code, _, body := probe(t, srv.URL()+"/livez"); code != http.StatusOK {
		t.Errorf("/livez with Redis down: %d %s", code, body)
	}

	redis.Resume()
	took, _ = waitStatus(t, readyz, http.StatusOK, 10*time.Second)
	t.Logf("/readyz back to 200 %v after Redis returned", took)

	code, _, body := probe(t, srv.URL()+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, name := range []string{metrics.NameLeaseAcquireDuration, `backend="redis"`, metrics.NameOutboxPending, "go_goroutines"} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}
