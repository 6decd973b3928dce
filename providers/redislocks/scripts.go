package redislocks

import "github.com/redis/go-redis/v9"

// Every script touches only the keys of one lock, which share a hash tag, so
// each runs on one slot of a Cluster. Replies are small integer arrays so one
// round trip answers everything the caller needs.

// acquireScript takes KEYS[1] (the lease hash) if it is free.
//
// The fencing token is KEYS[2], a counter raised by INCR. When the counter
// is missing (the first acquisition, an empty restart, or the counter
// expired after DefaultFenceTTL) INCR answers 1, and the counter is seeded
// from Redis's clock in µs instead: every earlier token was seeded at most
// one earlier seed's clock plus one per acquisition, and no key is acquired
// a million times a second, so tokens keep rising. The counter's expiry is
// set only when it is seeded, so it bounds per-key state without a command
// on the common path.
//
// When the key is held and ARGV[5] is set, the caller is a subscribed
// waiter: the lease is marked (field w, the flag says plain or sharded
// pub/sub) so that its release publishes. Releases nobody waits for publish
// nothing.
//
// ARGV: owner, ttl ms, fence ttl ms, acquired-at µs (the caller's clock),
// waiter flag, then metadata as key, value pairs, stored as md:<key>
// fields so HGETALL shows them verbatim.
// Reply: {1, token} when acquired; {0, pttl ms of the holder} when held.
var acquireScript = redis.NewScript(`
local pttl = redis.call('PTTL', KEYS[1])
if pttl ~= -2 then
	if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'w', ARGV[5]) end
	return {0, pttl}
end
local token = redis.call('INCR', KEYS[2])
if token == 1 then
	local t = redis.call('TIME')
	token = tonumber(t[1]) * 1000000 + tonumber(t[2])
	redis.call('SET', KEYS[2], string.format('%d', token), 'PX', ARGV[3])
end
if #ARGV == 5 then
	redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', string.format('%d', token), 'at', ARGV[4])
else
	local f = {'owner', ARGV[1], 'token', string.format('%d', token), 'at', ARGV[4]}
	for i = 6, #ARGV, 2 do
		f[#f + 1] = 'md:' .. ARGV[i]
		f[#f + 1] = ARGV[i + 1]
	end
	redis.call('HSET', KEYS[1], unpack(f))
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, token}
`)

// Owner checks answer 1 (ours), 0 (gone: expired or released), or -1 (now
// someone else's), so "expired" and "taken over" stay distinguishable.
const (
	ownerMine  = 1
	ownerGone  = 0
	ownerOther = -1
)

// renewScript extends KEYS[1] only if ARGV[1] still owns it. It never
// re-creates a lease that has expired.
//
// ARGV: owner, ttl ms.
var renewScript = redis.NewScript(`
local o = redis.call('HGET', KEYS[1], 'owner')
if o == ARGV[1] then
	redis.call('PEXPIRE', KEYS[1], ARGV[2])
	return 1
end
if not o then return 0 end
return -1
`)

// releaseScript deletes KEYS[1] only if ARGV[1] owns it. If a waiter
// marked the lease, it tells them on channel KEYS[2] (SPUBLISH when they
// listen on a sharded subscription) so they retry at once instead of at the
// old expiry.
//
// ARGV: owner.
var releaseScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'owner', 'w')
if v[1] == ARGV[1] then
	redis.call('DEL', KEYS[1])
	if v[2] == 's' then
		redis.call('SPUBLISH', KEYS[2], '1')
	elseif v[2] then
		redis.call('PUBLISH', KEYS[2], '1')
	end
	return 1
end
if not v[1] then return 0 end
return -1
`)

// inspectScript reads a lease and its remaining TTL in one step.
// Reply: {} when free; {pttl ms, field, value, ...} when held.
var inspectScript = redis.NewScript(`
local h = redis.call('HGETALL', KEYS[1])
if #h == 0 then return {} end
table.insert(h, 1, redis.call('PTTL', KEYS[1]))
return h
`)

var allScripts = []*redis.Script{acquireScript, renewScript, releaseScript, inspectScript, listScript}
