package locks

import "time"

// MinSafetyMargin is the floor of SafetyMargin. It covers a
// loopback-to-datacenter round trip plus ordinary clock drift; below it a
// margin of TTL/10 is too thin to mean anything. Networked adapters reject
// TTLs under twice this margin.
const MinSafetyMargin = 50 * time.Millisecond

// SafetyMargin is how long before the backend's expiry a holder stops
// trusting its lease. It covers clock drift and the round trip of the
// acquire or renew request, so the holder gives up before the backend could
// hand the key to someone else. It is max(ttl/10, 50ms), capped at ttl/2 so a
// very short lease still has a usable window.
func SafetyMargin(ttl time.Duration) time.Duration {
	m := max(ttl/10, MinSafetyMargin)
	return min(m, ttl/2)
}

// TrustWindowEnd returns the end of the holder's trust window for a lease of
// ttl whose request was sent at sentAt (local time taken before the request,
// so that the round trip counts against the holder, not in its favour).
func TrustWindowEnd(sentAt time.Time, ttl time.Duration) time.Time {
	return sentAt.Add(ttl - SafetyMargin(ttl))
}
