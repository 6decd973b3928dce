package locks

import (
	"math"
	"time"
)

// Upper bounds for the durations that reach a backend. Without them a TTL
// near math.MaxInt64 overflows when a backend rounds it to its own unit (a
// negative PEXPIRE deletes the key at once) or adds it to the current time.
// Both bounds are far beyond any sensible lease: a holder that needs longer
// should renew.
const (
	// MaxTTL is the longest lease TTL (and renewal TTL) accepted: 100
	// years. Adding it to any time of this century, or rounding it to
	// milliseconds, cannot overflow.
	MaxTTL = 100 * 365 * 24 * time.Hour
	// MaxWait is the longest Options.Wait accepted. Cancel the context to
	// wait "forever".
	MaxWait = MaxTTL
)

// SaturatingAdd returns a+b, clamped to the range of time.Duration instead of
// wrapping around. Code that derives a TTL or a wait from user durations
// (an interval plus a tolerance, say) uses it, then checks the sum against
// MaxTTL or MaxWait.
func SaturatingAdd(a, b time.Duration) time.Duration {
	switch {
	case b > 0 && a > math.MaxInt64-b:
		return math.MaxInt64
	case b < 0 && a < math.MinInt64-b:
		return math.MinInt64
	}
	return a + b
}
