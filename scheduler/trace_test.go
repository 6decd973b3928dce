package scheduler_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/scheduler"
)

// Each run is one span carrying the schedule, tick, instance, fencing token
// and outcome; the handler's ctx is inside it, and a failed run's span says
// so.
func TestRunSpans(t *testing.T) {
	tp := newPorts(t)
	exp := tracetest.NewInMemoryExporter()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	rec := newRecorder()
	s := scheduler.New(tp.Ports, scheduler.WithLocation(time.UTC), scheduler.WithInstanceID("i-1"),
		scheduler.WithHook(rec), scheduler.WithTracerProvider(provider))
	handlerSpans := make(chan trace.SpanContext, 4)
	fail := errors.New("report store down")
	mustAdd(t, s, "ok", "* * * * *", func(c *ctx.Context) error {
		handlerSpans <- trace.SpanContextFromContext(c)
		return nil
	})
	mustAdd(t, s, "broken", "* * * * *", func(*ctx.Context) error { return fail })
	start(t, s)

	tp.Advance(30 * time.Second)
	reps := rec.waitFor(t, "both runs", func(r []scheduler.Report) bool { return len(r) == 2 })
	tick := time.Date(2026, 12, 1, 0, 1, 0, 0, time.UTC)

	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2: %v", len(spans), spans)
	}
	bySchedule := map[string]tracetest.SpanStub{}
	for _, sp := range spans {
		attrs := attribute.NewSet(sp.Attributes...)
		v, _ := attrs.Value(scheduler.AttrSchedule)
		bySchedule[v.AsString()] = sp
	}
	tokens := map[string]uint64{}
	for _, r := range reps {
		tokens[r.Schedule] = r.FencingToken
		if !r.Start.Equal(tick) {
			t.Errorf("%s: Report.Start = %v, want the tick %v on a clock that did not move during the run", r.Schedule, r.Start, tick)
		}
	}
	for name, want := range map[string]scheduler.Outcome{"ok": scheduler.Ran, "broken": scheduler.Failed} {
		sp, ok := bySchedule[name]
		if !ok {
			t.Fatalf("no span for %q", name)
		}
		if sp.Name != scheduler.SpanName {
			t.Errorf("span name %q, want %q", sp.Name, scheduler.SpanName)
		}
		attrs := attribute.NewSet(sp.Attributes...)
		check := func(k attribute.Key, want attribute.Value) {
			t.Helper()
			if got, ok := attrs.Value(k); !ok || got != want {
				t.Errorf("%s: %s = %v (set %v), want %v", name, k, got.String(), ok, want.String())
			}
		}
		check(scheduler.AttrTick, attribute.StringValue(tick.Format(time.RFC3339Nano)))
		check(scheduler.AttrInstance, attribute.StringValue("i-1"))
		check(scheduler.AttrAttempt, attribute.IntValue(1))
		check(scheduler.AttrOutcome, attribute.StringValue(string(want)))
		check(scheduler.AttrFencingToken, attribute.Int64Value(int64(tokens[name])))
		if tokens[name] == 0 {
			t.Errorf("%s: run had no fencing token", name)
		}
		if !sp.StartTime.Equal(tick) {
			t.Errorf("%s: span starts %v, want the run's start on Ports.Clock %v", name, sp.StartTime, tick)
		}
		if want == scheduler.Failed {
			if sp.Status.Code != codes.Error || sp.Status.Description != fail.Error() {
				t.Errorf("failed run's span status = %+v", sp.Status)
			}
		} else if sp.Status.Code == codes.Error {
			t.Errorf("successful run's span status = %+v", sp.Status)
		}
	}
	got := <-handlerSpans
	if want := bySchedule["ok"].SpanContext; got.SpanID() != want.SpanID() || got.TraceID() != want.TraceID() {
		t.Errorf("handler's ctx carries span %v, want the run's span %v", got, want)
	}
}

// Without a tracer provider configured, runs still work and the handler
// sees a no-op span: nothing is recorded.
func TestRunWithoutTracing(t *testing.T) {
	tp := newPorts(t)
	rec := newRecorder()
	s := scheduler.New(tp.Ports, scheduler.WithLocation(time.UTC), scheduler.WithHook(rec))
	recording := make(chan bool, 1)
	mustAdd(t, s, "ok", "* * * * *", func(c *ctx.Context) error {
		recording <- trace.SpanFromContext(c).IsRecording()
		return nil
	})
	start(t, s)
	tp.Advance(30 * time.Second)
	rec.waitFor(t, "the run", func(r []scheduler.Report) bool { return count(r, scheduler.Ran) == 1 })
	if <-recording {
		t.Error("a span is recording with no SDK installed")
	}
}

// A retried tick has one span per attempt, numbered by the attempt
// attribute.
func TestRetrySpansCarryTheAttempt(t *testing.T) {
	tp := newPorts(t)
	exp := tracetest.NewInMemoryExporter()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	rec := newRecorder()
	s := scheduler.New(tp.Ports, scheduler.WithLocation(time.UTC), scheduler.WithHook(rec), scheduler.WithTracerProvider(provider))
	var tries atomic.Int64
	mustAdd(t, s, "flaky", "* * * * *", func(*ctx.Context) error {
		if tries.Add(1) == 1 {
			return errors.New("first try fails")
		}
		return nil
	}, scheduler.Retry(2, time.Second, time.Second))
	start(t, s)
	tp.Advance(31 * time.Second)
	rec.waitFor(t, "the retry", func(r []scheduler.Report) bool { return count(r, scheduler.Ran) == 1 })
	var attempts []int64
	for _, sp := range exp.GetSpans() {
		set := attribute.NewSet(sp.Attributes...)
		v, _ := set.Value(scheduler.AttrAttempt)
		attempts = append(attempts, v.AsInt64())
	}
	if len(attempts) != 2 || attempts[0] != 1 || attempts[1] != 2 {
		t.Errorf("span attempts %v, want [1 2]", attempts)
	}
}
