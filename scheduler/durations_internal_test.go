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

// The retry backoff doubles up to its cap and never overflows, however
// large the cap and however many attempts.
func TestRetryBackoffSaturates(t *testing.T) {
	huge := time.Duration(math.MaxInt64)
	for _, c := range []struct {
		first, max time.Duration
		attempt    int
		want       time.Duration
	}{
		{time.Second, time.Minute, 1, time.Second},
		{time.Second, time.Minute, 3, 4 * time.Second},
		{time.Second, time.Minute, 100, time.Minute},
		{1 << 62, huge, 2, huge},
		{1 << 62, huge, math.MaxInt, huge},
		{huge, huge, 5, huge},
		{huge/2 + 1, huge, 2, huge},
	} {
		o := scheduleOptions{backoff: c.first, maxBackoff: c.max}
		if got := retryBackoff(o, c.attempt); got != c.want || got <= 0 {
			t.Errorf("retryBackoff(%v, %v, attempt %d) = %v, want %v", c.first, c.max, c.attempt, got, c.want)
		}
	}
}
