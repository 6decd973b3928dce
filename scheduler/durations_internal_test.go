package scheduler

import (
	"math"
	"testing"
	"time"
)

func TestSumTTLSaturates(t *testing.T) {
	huge := time.Duration(math.MaxInt64)
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{time.Second, 2 * time.Second}, 3 * time.Second},
		{[]time.Duration{MaxDerivedTTL - 1, 1}, MaxDerivedTTL},
		{[]time.Duration{MaxDerivedTTL - 2, 1}, MaxDerivedTTL - 1},
		{[]time.Duration{huge, huge, huge}, MaxDerivedTTL},
		{[]time.Duration{time.Second, huge}, MaxDerivedTTL},
	} {
		if got := sumTTL(c.in...); got != c.want {
			t.Errorf("sumTTL(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
