package beignettest

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// Work that keeps running is named when the patience runs out; work whose
// goroutine waits (here on a channel only the test closes) is blocked, so
// waitIdle returns; and a sleeper counts as in flight from the moment it is
// due until it says it woke.
func TestWorkAccounting(t *testing.T) {
	w := newWork(clockwork.NewFakeClock())
	end := w.Begin("run stuck")
	stop := make(chan struct{})
	spun := make(chan struct{})
	go func() {
		defer close(spun)
		for {
			select {
			case <-stop:
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	if err := w.waitIdle(50 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "run stuck") {
		t.Fatalf("waitIdle = %v, want it to name the running run", err)
	}
	close(stop)
	<-spun
	// The same work, its goroutines all waiting: blocked, not running.
	if err := w.waitIdle(10 * time.Second); err != nil {
		t.Fatalf("waitIdle with every goroutine waiting: %v", err)
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
	if n := w.inFlightCount(); n != 1 {
		t.Fatalf("a due sleeper: %d in flight, want 1", n)
	}
	woke()
	woke()
	if n := w.inFlightCount(); n != 0 {
		t.Fatalf("a sleeper that woke: %d in flight, want 0", n)
	}

	// A sleeper with nothing to wait for is due at once.
	woke = w.Sleep("loop", 0)
	if n := w.inFlightCount(); n != 1 {
		t.Fatalf("a zero sleep: %d in flight, want 1", n)
	}
	woke()
}

// A chore's wake-up is not a step: next reports only the sleeper's own
// wake-up, and its timer is unknown to the tracker. But a step at or past
// the chore counts the sleeper as woken, until it says it woke.
func TestChoreAccounting(t *testing.T) {
	clock := clockwork.NewFakeClock()
	w := newWork(clock)
	now := clock.Now()
	tm := w.ChoreTimer(10 * time.Second)
	defer tm.Stop()
	woke := w.SleepChore("carrier", 24*time.Hour, 10*time.Second)
	if at, ok := w.next(now.Add(48 * time.Hour)); !ok || !at.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("next = %v, %v; want the sleeper's own wake-up a day on, not the chore's", at, ok)
	}
	if _, ok := w.next(now.Add(time.Hour)); ok {
		t.Fatal("the chore's wake-up was reported as a step")
	}
	w.wake(now.Add(9 * time.Second))
	if n := w.inFlightCount(); n != 0 {
		t.Fatalf("before the chore: %d in flight, want 0", n)
	}
	w.wake(now.Add(time.Hour))
	if n := w.inFlightCount(); n != 1 {
		t.Fatalf("a step past the chore: %d in flight, want 1", n)
	}
	woke()
	if n := w.inFlightCount(); n != 0 {
		t.Fatalf("after it woke: %d in flight, want 0", n)
	}
}

func (w *work) inFlightCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.inFlight)
}

// A timer made on the tracked clock is a point Advance stops at; a
// callback counts as in flight from the step that fires it until it
// returns, and a callback stopped after that step was counted is not left
// in flight.
func TestTimerAccounting(t *testing.T) {
	fake := clockwork.NewFakeClock()
	w := newWork(fake)
	c := &trackedClock{FakeClock: fake, work: w}
	start := fake.Now()

	tm := c.NewTimer(time.Minute)
	if at, ok := w.next(start.Add(time.Hour)); !ok || !at.Equal(start.Add(time.Minute)) {
		t.Fatalf("next = %v, %v; want the timer at +1m", at, ok)
	}
	tm.Reset(2 * time.Minute)
	if at, _ := w.next(start.Add(time.Hour)); !at.Equal(start.Add(2 * time.Minute)) {
		t.Fatalf("next after Reset = %v, want +2m", at)
	}
	tm.Stop()
	if at, ok := w.next(start.Add(time.Hour)); ok {
		t.Fatalf("a stopped timer is still a stop at %v", at)
	}

	ran := make(chan struct{})
	release := make(chan struct{})
	c.AfterFunc(time.Second, func() { <-release; close(ran) })
	w.wake(start.Add(time.Second))
	fake.Advance(time.Second)
	if n := w.inFlightCount(); n != 1 {
		t.Fatalf("a fired callback: %d in flight, want 1", n)
	}
	close(release)
	<-ran
	if err := w.waitIdle(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n := w.inFlightCount(); n != 0 {
		t.Fatalf("a callback that returned: %d in flight", n)
	}

	cb := c.AfterFunc(time.Second, func() { t.Error("a stopped callback ran") })
	w.wake(fake.Now().Add(time.Second))
	cb.Stop()
	if n := w.inFlightCount(); n != 0 {
		t.Fatalf("a callback stopped before it fired: %d in flight", n)
	}

	tk := c.NewTicker(time.Minute)
	defer tk.Stop()
	fake.Advance(90 * time.Second)
	if at, _ := w.next(fake.Now().Add(time.Hour)); !at.Equal(start.Add(time.Second + 2*time.Minute)) {
		t.Fatalf("a ticker's next stop = %v, want its next period", at.Sub(start))
	}
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

// Advance over more wake-ups than it will step through fails at once with
// the projected count, rather than after minutes of stepping.
func TestAdvanceTooFarFailsFast(t *testing.T) {
	msg := fails(t, func(tb testing.TB) {
		tp := CreateTestPorts(tb)
		var woke func()
		// A loop that wakes every second, as an every-second task would.
		var loop func()
		loop = func() {
			woke = tp.work.Sleep("loop", time.Second)
			tp.Ports.Clock.AfterFunc(time.Second, func() { woke(); loop() })
		}
		loop()
		tp.Advance(math.MaxInt64)
	})
	if !strings.Contains(msg, "wake-ups on the way") || !strings.Contains(msg, "advance less at a time") {
		t.Fatalf("failure %q, want the projected count of wake-ups", msg)
	}
}
