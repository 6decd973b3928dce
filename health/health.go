// Package health serves liveness and readiness probes for a Beignet app.
//
// /livez answers 200 while the process can serve HTTP. /readyz runs every
// check at once and answers 200 when all pass, else 503 with a JSON body
// naming each failing check and its error, so that an operator (or a load
// balancer's log) sees why without reading the app's logs.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// Check is one readiness condition.
type Check struct {
	// Name identifies the check in /readyz's body, e.g. "redis".
	Name string
	// Func returns nil while the condition holds. It must honour ctx,
	// which ends after CheckTimeout.
	Func func(ctx context.Context) error
}

// CheckTimeout bounds each check, so /readyz answers within it even when a
// server has gone silent rather than refusing connections.
const CheckTimeout = time.Second

// Status is /readyz's and /livez's JSON body.
type Status struct {
	// Status is "ok" or "unavailable".
	Status string `json:"status"`
	// Failing names the failing checks, sorted; omitted when none fails.
	Failing []string `json:"failing,omitempty"`
	// Checks maps every check's name to "ok" or its error.
	Checks map[string]string `json:"checks,omitempty"`
}

// Handler serves /livez and /readyz (matched on the path's end, so it can
// be mounted under a prefix) with checks as the readiness conditions.
// Other paths get 404.
func Handler(checks ...Check) http.Handler {
	checks = append([]Check(nil), checks...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch path := r.URL.Path; {
		case len(path) >= 6 && path[len(path)-6:] == "/livez":
			write(w, http.StatusOK, Status{Status: "ok"})
		case len(path) >= 7 && path[len(path)-7:] == "/readyz":
			st := Run(r.Context(), checks...)
			code := http.StatusOK
			if st.Status != "ok" {
				code = http.StatusServiceUnavailable
			}
			write(w, code, st)
		default:
			http.NotFound(w, r)
		}
	})
}

// Run runs checks concurrently, each bounded by CheckTimeout, and reports
// them. A check that has not returned shortly after its ctx ended is
// reported as failed with ctx's error and left to finish on its own: a
// client that ignores ctx (go-redis's socket timeouts do, unless
// ContextTimeoutEnabled is set) must not hold /readyz past a probe's
// timeout.
func Run(ctx context.Context, checks ...Check) Status {
	results := make([]error, len(checks))
	chans := make([]chan error, len(checks))
	cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	for i, c := range checks {
		ch := make(chan error, 1) // buffered: an abandoned check never blocks
		chans[i] = ch
		go func() { ch <- c.Func(cctx) }()
	}
	// The grace lets a check that honours ctx report its own error.
	grace := time.NewTimer(CheckTimeout + abandonGrace)
	defer grace.Stop()
	for i, ch := range chans {
		select {
		case err := <-ch:
			results[i] = err
		case <-grace.C:
			// Every later check gets the same verdict: the timer fired once.
			for j := i; j < len(chans); j++ {
				select {
				case err := <-chans[j]:
					results[j] = err
				default:
					results[j] = fmt.Errorf("no answer within %v: %w", CheckTimeout, context.Cause(cctx))
				}
			}
			return report(checks, results)
		}
	}
	return report(checks, results)
}

// abandonGrace is how long past CheckTimeout Run waits for a check that
// has not returned.
const abandonGrace = 100 * time.Millisecond

func report(checks []Check, results []error) Status {
	st := Status{Status: "ok", Checks: make(map[string]string, len(checks))}
	for i, c := range checks {
		if err := results[i]; err != nil {
			st.Checks[c.Name] = err.Error()
			st.Failing = append(st.Failing, c.Name)
			continue
		}
		st.Checks[c.Name] = "ok"
	}
	if len(st.Failing) > 0 {
		st.Status = "unavailable"
		sort.Strings(st.Failing)
	}
	return st
}

func write(w http.ResponseWriter, code int, st Status) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(st)
}
