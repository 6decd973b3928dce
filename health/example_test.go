package health_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/beignet-go/beignet/health"
)

func ExampleHandler() {
	h := health.Handler(
		health.Check{Name: "redis", Func: func(context.Context) error { return errors.New("redis unreachable: connection refused") }},
		health.Check{Name: "scheduler", Func: func(context.Context) error { return nil }},
	)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	fmt.Print(rec.Code, " ", rec.Body)
	// Output: 503 {"status":"unavailable","failing":["redis"],"checks":{"redis":"redis unreachable: connection refused","scheduler":"ok"}}
}
