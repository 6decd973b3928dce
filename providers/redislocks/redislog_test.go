package redislocks

import (
	"bytes"
	"context"
	"log"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// Lines go to the app started last, Warn unless a connect loop runs, and
// to the fallback once every app has stopped.
func TestLogRouter(t *testing.T) {
	var fallback bytes.Buffer
	r := &logRouter{fallback: log.New(&fallback, "redis: ", 0)}
	coreA, a := observer.New(zapcore.DebugLevel)
	coreB, b := observer.New(zapcore.DebugLevel)

	removeA := r.add(zap.New(coreA))
	removeB := r.add(zap.New(coreB))
	r.Printf(context.Background(), "redis: %s", "one")
	done := r.quiet()
	r.Printf(context.Background(), "two")
	done()
	removeB()
	r.Printf(context.Background(), "three")
	removeA()
	r.Printf(context.Background(), "four")

	got := func(o *observer.ObservedLogs) (lines []string) {
		for _, e := range o.All() {
			lines = append(lines, e.LoggerName+" "+e.Level.String()+" "+e.Message)
		}
		return lines
	}
	if g, w := strings.Join(got(b), "|"), "go-redis warn one|go-redis debug two"; g != w {
		t.Errorf("latest app got %q, want %q", g, w)
	}
	if g, w := strings.Join(got(a), "|"), "go-redis warn three"; g != w {
		t.Errorf("earlier app got %q, want %q", g, w)
	}
	if g := fallback.String(); g != "redis: four\n" {
		t.Errorf("with no app running, stderr got %q", g)
	}
}
