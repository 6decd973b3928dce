package scheduler

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// TracerName is the instrumentation scope of the scheduler's spans.
const TracerName = "github.com/beignet-go/beignet/scheduler"

// SpanName is the name of the span that wraps each scheduled run.
const SpanName = "beignet.run"

// Attribute keys of a run's span.
const (
	AttrSchedule     = attribute.Key("beignet.schedule")
	AttrTick         = attribute.Key("beignet.tick")
	AttrInstance     = attribute.Key("beignet.instance")
	AttrAttempt      = attribute.Key("beignet.attempt")
	AttrFencingToken = attribute.Key("beignet.fencing_token")
	AttrOutcome      = attribute.Key("beignet.outcome")
)

// WithTracerProvider makes each run's span come from tp. The default is
// otel's global provider, which records nothing until an app installs an
// SDK, so untraced apps pay only for a no-op span.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracerProvider = tp }
}

func newTracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer(TracerName)
}

// startSpan opens the run's span; the handler's ctx descends from the
// returned ctx, so the handler's own spans are its children.
func (s *Scheduler) startSpan(c context.Context, name string, tick time.Time, attempt int, start time.Time) (context.Context, trace.Span) {
	c, span := s.tracer.Start(c, SpanName, trace.WithTimestamp(start))
	if span.IsRecording() {
		// Attributes are built only for a recording span: without an SDK
		// a run pays only for the no-op span, its ctx and its timestamp
		// options (BenchmarkRunSpanNoSDK: 7 allocations, 320 B).
		span.SetAttributes(
			AttrSchedule.String(name),
			AttrTick.String(tick.UTC().Format(time.RFC3339Nano)),
			AttrInstance.String(s.opts.instance),
			AttrAttempt.Int(attempt),
		)
	}
	return c, span
}

// endSpan closes the run's span with what became of the run.
func (s *Scheduler) endSpan(span trace.Span, r Report) {
	if span.IsRecording() {
		span.SetAttributes(
			// OTel has no unsigned attributes; a token above MaxInt64
			// would wrap, so it is carried as the number's bits.
			AttrFencingToken.Int64(int64(r.FencingToken)),
			AttrOutcome.String(string(r.Outcome)),
		)
		switch r.Outcome {
		case Ran, SkippedHeld:
		default:
			if r.Err != nil {
				span.RecordError(r.Err)
				span.SetStatus(codes.Error, r.Err.Error())
			} else {
				span.SetStatus(codes.Error, string(r.Outcome))
			}
		}
	}
	span.End(trace.WithTimestamp(r.Start.Add(r.Duration)))
}
