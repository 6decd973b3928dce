package beignettest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// Work that never ends is named when the patience runs out, and a sleeper
// counts as in flight from the moment it is due until it says it woke.
func TestWorkAccounting(t *testing.T) {
	w := newWork(clockwork.NewFakeClock())
	end := w.Begin("run stuck")
	if err := w.waitIdle(time.Millisecond); err == nil || !strings.Contains(err.Error(), "run stuck") {
		t.Fatalf("waitIdle = %v, want it to name the stuck run", err)
	}
	end()
	end() // twice is harmless
	if err := w.waitIdle(time.Millisecond); err != nil {
		t.Fatal(err)
	}

	woke := w.Sleep("loop", time.Minute)
	if at, ok := w.next(w.clock.Now().Add(time.Minute)); !ok || !at.Equal(w.clock.Now().Add(time.Minute)) {
		t.Fatalf("next = %v, %v", at, ok)
	}
	if _, ok := w.next(w.clock.Now().Add(time.Second)); ok {
		t.Fatal("a wake-up beyond the end was reported")
	}
	w.wake(w.clock.Now().Add(time.Minute))
	if err := w.waitIdle(time.Millisecond); err == nil {
		t.Fatal("a due sleeper was not counted in flight")
	}
	woke()
	woke()
	if err := w.waitIdle(time.Millisecond); err != nil {
		t.Fatal(err)
	}

	// A sleeper with nothing to wait for is due at once.
	woke = w.Sleep("loop", 0)
	if err := w.waitIdle(time.Millisecond); err == nil {
		t.Fatal("a zero sleep was not counted in flight")
	}
	woke()
}

// fatalTB records a test failure instead of failing the real test.
type fatalTB struct {
	testing.TB
	msg chan string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg <- fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalTB) Fatal(args ...any) {
	f.msg <- fmt.Sprint(args...)
	runtime.Goexit()
}

// fails runs f on a TestPorts whose test failures are recorded, and returns
// the failure message.
func fails(t *testing.T, f func(tb testing.TB)) string {
	tb := &fatalTB{TB: t, msg: make(chan string, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(tb)
	}()
	<-done
	select {
	case m := <-tb.msg:
		return m
	default:
		return ""
	}
}

func TestBadInputFailsTheTest(t *testing.T) {
	if msg := fails(t, func(tb testing.TB) { CreateTestPorts(tb).Advance(-time.Second) }); !strings.Contains(msg, "Advance(-1s): the clock only moves forward") {
		t.Errorf("negative Advance: %q", msg)
	}
	if msg := fails(t, func(tb testing.TB) { CreateTestPorts(tb, StartAt(time.Time{})) }); !strings.Contains(msg, "StartAt(zero time)") {
		t.Errorf("zero StartAt: %q", msg)
	}
}
