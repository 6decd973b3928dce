package scheduler

import (
	"time"

	"github.com/beignet-go/beignet/locks"
)

// MaxDerivedTTL bounds every duration the scheduler computes from a
// schedule and hands to the locks backend: a tick's claim TTL (interval +
// 2×skew tolerance + jitter + 1 s) and a run's lease wait (lease TTL +
// interval under OverlapWait). Sums past it are cut to it instead of
// overflowing or being refused by the backend. It is locks.MaxTTL, which
// is also locks.MaxWait. Only schedules whose ticks are about a century
// apart reach it; for them a tick's claim lasts a century rather than the
// whole interval.
const MaxDerivedTTL = locks.MaxTTL

// claimTTL and leaseWait add non-negative durations without overflow,
// capped at what the locks port accepts for each.
func claimTTL(ds ...time.Duration) time.Duration  { return capped(locks.MaxTTL, ds) }
func leaseWait(ds ...time.Duration) time.Duration { return capped(locks.MaxWait, ds) }

func capped(limit time.Duration, ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum = locks.SaturatingAdd(sum, d)
	}
	return min(sum, limit)
}
