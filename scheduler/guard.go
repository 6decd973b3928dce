package scheduler

import (
	"errors"
	"runtime/debug"
)

// ErrGoexit is the error of a run or task pass whose handler called
// runtime.Goexit (t.FailNow and log.Fatal-style helpers in tests do) instead
// of returning.
var ErrGoexit = errors.New("scheduler: handler called runtime.Goexit")

// exit is how a guarded handler ended.
type exit struct {
	err      error
	panicked bool
	value    any    // the panic's value
	stack    []byte // where it panicked
	goexit   bool
}

// guard calls fn on a goroutine of its own and reports how it ended. A
// panic is recovered there; runtime.Goexit ends only that goroutine, which
// recover cannot see. Either way the caller returns normally, so the lease
// around the run is released and the run is reported rather than leaving
// the schedule blocked by a lease nobody releases.
func guard(fn func() error) exit {
	ch := make(chan exit, 1)
	go func() {
		x := exit{goexit: true}
		defer func() { ch <- x }() // also runs on Goexit
		defer func() {
			if p := recover(); p != nil {
				x = exit{panicked: true, value: p, stack: debug.Stack()}
			}
		}()
		x.err = fn()
		x.goexit = false
	}()
	return <-ch
}
