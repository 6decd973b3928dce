package scheduler

import (
	"context"
	"testing"
	"time"
)

// BenchmarkRunSpanNoSDK is what tracing costs a run when no SDK is
// installed: otel's global provider hands out a non-recording span, which
// still goes into a context and takes its timestamp options
// (docs/observability.md quotes the figures).
func BenchmarkRunSpanNoSDK(b *testing.B) {
	s := &Scheduler{tracer: newTracer(nil)}
	now := time.Now()
	c := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, span := s.startSpan(c, "x", now, 1, now)
		s.endSpan(span, Report{Start: now, Outcome: Ran})
	}
}
