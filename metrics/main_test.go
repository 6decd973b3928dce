package metrics_test

import (
	"fmt"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// histogramOf renders the exposition of one histogram series holding
// samples, as testutil.CollectAndCompare expects it.
func histogramOf(name, labels string, buckets []float64, samples ...float64) string {
	var b strings.Builder
	sum := 0.0
	for _, s := range samples {
		sum += s
	}
	for _, le := range buckets {
		n := 0
		for _, s := range samples {
			if s <= le {
				n++
			}
		}
		fmt.Fprintf(&b, "%s_bucket{%s,le=\"%g\"} %d\n", name, labels, le, n)
	}
	fmt.Fprintf(&b, "%s_bucket{%s,le=\"+Inf\"} %d\n", name, labels, len(samples))
	fmt.Fprintf(&b, "%s_sum{%s} %g\n%s_count{%s} %d\n", name, labels, sum, name, labels, len(samples))
	return b.String()
}

// histogram renders the exposition of one histogram series whose samples
// all fell in its first bucket (the fake clock did not move), as
// testutil.CollectAndCompare expects it.
func histogram(name, labels string, buckets []float64, count int, sum float64) string {
	var b strings.Builder
	sep := ""
	if labels != "" {
		sep = ","
	}
	for _, le := range buckets {
		fmt.Fprintf(&b, "%s_bucket{%s%sle=\"%g\"} %d\n", name, labels, sep, le, count)
	}
	fmt.Fprintf(&b, "%s_bucket{%s%sle=\"+Inf\"} %d\n", name, labels, sep, count)
	if labels == "" {
		fmt.Fprintf(&b, "%s_sum %g\n%s_count %d\n", name, sum, name, count)
	} else {
		fmt.Fprintf(&b, "%s_sum{%s} %g\n%s_count{%s} %d\n", name, labels, sum, name, labels, count)
	}
	return b.String()
}
