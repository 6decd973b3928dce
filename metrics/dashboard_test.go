package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/beignet-go/beignet/metrics"
)

// beignetName matches a Beignet metric name in a PromQL expression.
var beignetName = regexp.MustCompile(`beignet_[a-z_]+`)

// histograms are the metrics whose _bucket, _sum and _count series exist.
var histograms = []string{metrics.NameScheduleRunDuration, metrics.NameScheduleTickLag, metrics.NameLeaseAcquireDuration}

// checkQuery fails t if expr names a metric that New does not register.
func checkQuery(t *testing.T, where, expr string) {
	t.Helper()
	names := beignetName.FindAllString(expr, -1)
	if len(names) == 0 {
		t.Errorf("%s: %q names no beignet metric", where, expr)
	}
	for _, n := range names {
		if slices.Contains(metrics.Names, n) {
			if slices.Contains(histograms, n) {
				t.Errorf("%s: %q uses histogram %s without _bucket, _sum or _count", where, expr, n)
			}
			continue
		}
		base := n
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if base == n || !slices.Contains(histograms, base) {
			t.Errorf("%s: %q names %s, which does not exist", where, expr, n)
		}
	}
}

// exprs returns every "expr" and "query" string in a decoded JSON value.
func exprs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || k == "query") {
				out = append(out, s)
				continue
			}
			out = append(out, exprs(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, exprs(x)...)
		}
	}
	return out
}

// Every query of the sample dashboard names only metrics that exist.
func TestDashboardQueriesNameRealMetrics(t *testing.T) {
	raw, err := os.ReadFile("../docs/grafana/beignet-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	qs := exprs(dash)
	if len(qs) < 10 {
		t.Fatalf("found %d queries in the dashboard, want one per panel at least", len(qs))
	}
	used := map[string]bool{}
	for _, q := range qs {
		if strings.HasPrefix(q, "prometheus") {
			continue // the data source variable's query
		}
		checkQuery(t, "dashboard", q)
		for _, n := range beignetName.FindAllString(q, -1) {
			used[n] = true
		}
	}
	// The dashboard shows every metric, so a new one is not forgotten.
	for _, n := range metrics.Names {
		found := used[n]
		for _, s := range []string{"_bucket", "_count", "_sum"} {
			found = found || used[n+s]
		}
		if !found {
			t.Errorf("the dashboard never shows %s", n)
		}
	}
}

// Every alert expression in docs/observability.md names only metrics that
// exist.
func TestDocumentedAlertsNameRealMetrics(t *testing.T) {
	raw, err := os.ReadFile("../docs/observability.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(raw), "\n") {
		if expr, ok := strings.CutPrefix(strings.TrimSpace(line), "expr: "); ok {
			checkQuery(t, "docs/observability.md", expr)
			n++
		}
	}
	if n == 0 {
		t.Fatal("no alert expressions found in docs/observability.md")
	}
	// The doc's metric table lists every metric.
	for _, name := range metrics.Names {
		if !strings.Contains(string(raw), "| `"+name+"` |") {
			t.Errorf("docs/observability.md does not document %s", name)
		}
	}
}
