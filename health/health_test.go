package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/health"
	"github.com/beignet-go/beignet/internal/testserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testserver.Main(m)) }

func get(t *testing.T, h http.Handler, path string) (int, health.Status) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var st health.Status
	if rec.Code != http.StatusNotFound {
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
			t.Fatalf("%s: body %q: %v", path, rec.Body, err)
		}
	}
	return rec.Code, st
}

// /readyz answers 503 naming each failing check and its error, 200 when
// all pass; /livez answers 200 whatever the checks say.
func TestReadyzNamesFailingChecks(t *testing.T) {
	redisDown := errors.New("dial tcp 127.0.0.1:6390: connection refused")
	failing := true
	h := health.Handler(
		health.Check{Name: "redis", Func: func(context.Context) error {
			if failing {
				return redisDown
			}
			return nil
		}},
		health.Check{Name: "postgres", Func: func(context.Context) error { return nil }},
		health.Check{Name: "scheduler", Func: func(context.Context) error {
			if failing {
				return errors.New("stalled")
			}
			return nil
		}},
	)
	code, st := get(t, h, "/readyz")
	if code != http.StatusServiceUnavailable || st.Status != "unavailable" {
		t.Errorf("failing: %d %+v", code, st)
	}
	if len(st.Failing) != 2 || st.Failing[0] != "redis" || st.Failing[1] != "scheduler" {
		t.Errorf("failing checks %v, want [redis scheduler]", st.Failing)
	}
	if st.Checks["redis"] != redisDown.Error() || st.Checks["postgres"] != "ok" {
		t.Errorf("checks %v", st.Checks)
	}
	if code, st := get(t, h, "/livez"); code != http.StatusOK || st.Status != "ok" {
		t.Errorf("/livez while not ready: %d %+v", code, st)
	}
	failing = false
	if code, st := get(t, h, "/admin/readyz"); code != http.StatusOK || st.Status != "ok" || len(st.Failing) != 0 {
		t.Errorf("all passing, under a prefix: %d %+v", code, st)
	}
	if code, _ := get(t, h, "/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics: %d, want 404", code)
	}
}

// A check that hangs is cut off at CheckTimeout and reported as failing;
// with no checks at all, the app is ready.
func TestCheckTimeoutAndNoChecks(t *testing.T) {
	st := health.Run(context.Background(), health.Check{Name: "silent", Func: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	if st.Status != "unavailable" || st.Checks["silent"] != context.DeadlineExceeded.Error() {
		t.Errorf("hanging check: %+v", st)
	}
	if st := health.Run(context.Background()); st.Status != "ok" {
		t.Errorf("no checks: %+v", st)
	}
}
