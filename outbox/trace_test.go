package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
)

// The trace context of the transaction that enqueued a message travels in
// its headers to the publish: the publish span is a child of the enqueuing
// span, carries the message's id and key, and the publisher sees the
// publish span's own context in the headers it forwards.
func TestPublishSpanJoinsTheEnqueuingTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	clock := clockwork.NewFakeClock()
	store := outbox.NewMemory(outbox.MemoryClock(clock))

	reqCtx, req := tp.Tracer("test").Start(context.Background(), "POST /reports")
	tx := store.Begin()
	if err := store.Enqueue(reqCtx, tx, outbox.Message{Topic: "report.ready", Key: "tenant-7", Headers: map[string]string{"x": "y"}}); err != nil {
		t.Fatal(err)
	}
	// A message enqueued without a span gets no trace headers.
	if err := store.Enqueue(context.Background(), tx, outbox.Message{Topic: "untraced"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	req.End()

	seen := map[string]map[string]string{}
	pub := outbox.PublisherFunc(func(ctx context.Context, m outbox.Message) error {
		seen[m.Topic] = m.Headers
		if m.Topic == "report.ready" && !trace.SpanFromContext(ctx).IsRecording() {
			t.Error("publisher's ctx is not inside the publish span")
		}
		return nil
	})
	d, err := outbox.NewDrainer("events", store, pub, clock, nil, outbox.TracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	lm := locks.NewMemory(locks.WithClock(clock))
	if err := lm.WithLease(context.Background(), d.LeaseKey(), locks.Options{TTL: time.Minute}, d.Pass); err != nil {
		t.Fatal(err)
	}

	var publish []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == outbox.PublishSpanName {
			publish = append(publish, s)
		}
	}
	if len(publish) != 2 {
		t.Fatalf("%d publish spans, want 2", len(publish))
	}
	reqSC := req.SpanContext()
	var traced tracetest.SpanStub
	for _, s := range publish {
		attrs := attribute.NewSet(s.Attributes...)
		if topic, _ := attrs.Value(outbox.AttrTopic); topic.AsString() == "report.ready" {
			traced = s
		} else if s.SpanContext.TraceID() == reqSC.TraceID() {
			t.Error("the untraced message's publish joined the request's trace")
		}
	}
	if traced.SpanContext.TraceID() != reqSC.TraceID() || traced.Parent.SpanID() != reqSC.SpanID() {
		t.Errorf("publish span: trace %v parent %v, want trace %v parent %v",
			traced.SpanContext.TraceID(), traced.Parent.SpanID(), reqSC.TraceID(), reqSC.SpanID())
	}
	attrs := attribute.NewSet(traced.Attributes...)
	if key, _ := attrs.Value(outbox.AttrMessageKey); key.AsString() != "tenant-7" {
		t.Errorf("message key attribute = %q", key.AsString())
	}
	if id, ok := attrs.Value(outbox.AttrMessageID); !ok || id.AsInt64() != 1 {
		t.Errorf("message id attribute = %v (set %v), want 1", id.AsInt64(), ok)
	}
	h := seen["report.ready"]
	if h["x"] != "y" {
		t.Errorf("the caller's headers were lost: %v", h)
	}
	wantParent := "00-" + traced.SpanContext.TraceID().String() + "-" + traced.SpanContext.SpanID().String() + "-01"
	if h["traceparent"] != wantParent {
		t.Errorf("publisher got traceparent %q, want the publish span's %q", h["traceparent"], wantParent)
	}
	if _, ok := seen["untraced"]["traceparent"]; !ok {
		t.Error("the untraced message's publish span was not passed on to the publisher")
	}
	// The stored message still carries the enqueuing context, not the
	// publish's: a retry is a sibling, not a child, of the first attempt.
	stored, _, err := store.Get(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := "00-" + reqSC.TraceID().String() + "-" + reqSC.SpanID().String() + "-01"; stored.Headers["traceparent"] != want {
		t.Errorf("stored traceparent %q, want the request's %q", stored.Headers["traceparent"], want)
	}
}

// On PostgreSQL too, Enqueue stores the enqueuing span's trace context in
// the message's headers, in the caller's transaction; a traceparent the
// caller set itself is kept.
func TestPostgresEnqueueStoresTraceContext(t *testing.T) {
	store := newPostgres(t, testPool(t))
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(context.Background(), "POST /reports")
	defer span.End()
	tx, err := store.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	traced, err := store.Enqueue(ctx, tx, outbox.Message{Topic: "report.ready", Key: "tenant-7"})
	if err != nil {
		t.Fatal(err)
	}
	own := "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01"
	kept, err := store.Enqueue(ctx, tx, outbox.Message{Topic: "relayed", Headers: map[string]string{"traceparent": own}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	sc := span.SpanContext()
	for id, want := range map[int64]string{
		traced: "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01",
		kept:   own,
	} {
		m, ok, err := store.Get(context.Background(), id)
		if err != nil || !ok {
			t.Fatalf("Get(%d): %v, %v", id, ok, err)
		}
		if m.Headers["traceparent"] != want {
			t.Errorf("message %d: traceparent %q, want %q", id, m.Headers["traceparent"], want)
		}
	}
}
