package outbox

import (
	"context"
	"maps"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TracerName is the instrumentation scope of the outbox's spans.
const TracerName = "github.com/beignet-go/beignet/outbox"

// PublishSpanName is the name of the span around each publish attempt.
const PublishSpanName = "beignet.outbox.publish"

// Attribute keys of a publish span.
const (
	AttrDrain      = attribute.Key("beignet.outbox.drain")
	AttrMessageID  = attribute.Key("beignet.outbox.message.id")
	AttrMessageKey = attribute.Key("beignet.outbox.message.key")
	AttrTopic      = attribute.Key("beignet.outbox.topic")
)

// The trace context travels in a message's Headers as W3C Trace Context
// ("traceparent", "tracestate"): a fixed format, so the enqueuing and the
// publishing process agree whatever propagator either has installed, and a
// webhook receiver can continue the trace from the request's headers.
var traceFormat = propagation.TraceContext{}

// headerCarrier adapts Headers to a propagation.TextMapCarrier.
type headerCarrier map[string]string

func (h headerCarrier) Get(k string) string { return h[k] }
func (h headerCarrier) Set(k, v string)     { h[k] = v }
func (h headerCarrier) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}

// withTraceContext returns headers carrying ctx's span context, so that the
// publish of a message enqueued inside a traced request joins that trace.
// Without a span in ctx, or when the caller set "traceparent" itself,
// headers are returned unchanged. It never modifies headers.
func withTraceContext(ctx context.Context, headers map[string]string) map[string]string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return headers
	}
	if _, set := headers["traceparent"]; set {
		return headers
	}
	out := make(map[string]string, len(headers)+2)
	maps.Copy(out, headers)
	traceFormat.Inject(ctx, headerCarrier(out))
	return out
}

// TracerProvider makes the drain's publish spans come from tp (default:
// otel's global provider, which records nothing until an SDK is installed).
func TracerProvider(tp trace.TracerProvider) Option {
	return func(o *drainOptions) { o.tracerProvider = tp }
}

func newTracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer(TracerName)
}

// startPublish opens the span of one publish attempt. Its parent is the
// trace context the message was enqueued with, if any, else the pass's
// ctx. The message handed to the publisher carries the publish span's own
// context, so the receiver's spans follow it.
func (d *Drainer) startPublish(ctx context.Context, m Message) (context.Context, Message, trace.Span) {
	if _, ok := m.Headers["traceparent"]; ok {
		if sc := trace.SpanContextFromContext(traceFormat.Extract(context.Background(), headerCarrier(m.Headers))); sc.IsValid() {
			ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
		}
	}
	ctx, span := d.tracer.Start(ctx, PublishSpanName, trace.WithSpanKind(trace.SpanKindProducer))
	if !span.IsRecording() {
		return ctx, m, span
	}
	span.SetAttributes(
		AttrDrain.String(d.name),
		AttrMessageID.Int64(m.ID),
		AttrMessageKey.String(m.Key),
		AttrTopic.String(m.Topic),
	)
	h := make(map[string]string, len(m.Headers)+2)
	maps.Copy(h, m.Headers)
	traceFormat.Inject(ctx, headerCarrier(h))
	m.Headers = h
	return ctx, m, span
}

// endPublish closes a publish span with the attempt's result.
func endPublish(span trace.Span, err error, outcome PublishOutcome) {
	if span.IsRecording() {
		span.SetAttributes(attribute.String("beignet.outbox.outcome", string(outcome)))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
	}
	span.End()
}
