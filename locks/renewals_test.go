package locks_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/locks"
)

// RenewalHooks tells every subscriber of each failure, and of the first
// answer after failures only; an answer with nothing failing costs no call.
func TestRenewalHooks(t *testing.T) {
	clock := clockwork.NewFakeClock()
	var h locks.RenewalHooks
	var got [2][]string
	for i := range got {
		h.Add(func(ev locks.RenewalEvent) {
			got[i] = append(got[i], fmt.Sprintf("%s#%d %v %v @%v", ev.Key, ev.FencingToken, ev.TTL, ev.Err, ev.At.Sub(clock.Now())))
		})
	}
	h.Answered(clock)
	down := errors.New("connection refused")
	h.Failed(locks.RenewalEvent{Key: "k", FencingToken: 7, TTL: time.Second, Err: down, At: clock.Now()})
	h.Failed(locks.RenewalEvent{Key: "k", FencingToken: 7, TTL: time.Second, Err: down, At: clock.Now()})
	h.Answered(clock)
	h.Answered(clock)
	want := "[k#7 1s connection refused @0s k#7 1s connection refused @0s #0 0s <nil> @0s]"
	for i := range got {
		if fmt.Sprint(got[i]) != want {
			t.Errorf("subscriber %d heard %v, want %v", i, got[i], want)
		}
	}
}
