package scheduler

import (
	"math"
	"testing"
	"time"

	"github.com/beignet-go/beignet/locks"
)

func TestDerivedDurationsSaturate(t *testing.T) {
	huge := time.Duration(math.MaxInt64)
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{time.Second, 2 * time.Second}, 3 * time.Second},
		{[]time.Duration{locks.MaxTTL - 1, 1}, locks.MaxTTL},
		{[]time.Duration{locks.MaxTTL - 2, 1}, locks.MaxTTL - 1},
		{[]time.Duration{locks.MaxTTL, 1}, locks.MaxTTL},
		{[]time.Duration{huge, huge, huge}, locks.MaxTTL},
		{[]time.Duration{time.Second, huge}, locks.MaxTTL},
	} {
		if got := claimTTL(c.in...); got != c.want {
			t.Errorf("claimTTL(%v) = %v, want %v", c.in, got, c.want)
		}
		if err := locks.ValidateTTL(claimTTL(append(c.in, time.Second)...)); err != nil {
			t.Errorf("claimTTL(%v, 1s) is refused by the port: %v", c.in, err)
		}
		if err := (locks.Options{TTL: time.Second, Wait: leaseWait(c.in...)}).Validate(); err != nil {
			t.Errorf("leaseWait(%v) is refused by the port: %v", c.in, err)
		}
	}
}
