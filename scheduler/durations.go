package scheduler

import "time"

// MaxDerivedTTL bounds every duration the scheduler computes from a
// schedule and hands to the locks backend: a tick's claim TTL (interval +
// 2×skew tolerance + jitter + 1 s) and a run's lease wait under
// OverlapWait (lease TTL + interval). Sums past it are cut to it instead
// of overflowing. Only schedules whose ticks are about a century apart
// reach it; for them a tick's claim lasts a century rather than the whole
// interval.
const MaxDerivedTTL = 100 * 365 * 24 * time.Hour

// sumTTL adds non-negative durations, saturating at MaxDerivedTTL.
func sumTTL(ds ...time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		if d >= MaxDerivedTTL-sum {
			return MaxDerivedTTL
		}
		sum += d
	}
	return sum
}
