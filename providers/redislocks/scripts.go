package redislocks

import "github.com/redis/go-redis/v9"

// Every script touches only the keys of one lock, which share a hash tag, so
// each runs on one slot of a Cluster. Replies are small integer arrays so one
// round trip answers everything the caller needs.

// acquireScript takes KEYS[1] (the lease hash) if it is free. The fencing
// token is max(last+1, server time in µs): last (KEYS[2]) keeps tokens rising
// within a microsecond and across a backwards clock step, while server time
// keeps them rising after a restart with no data or after the fence key has
// expired from idleness, so the fence key may safely expire.
//
// ARGV: owner, ttl ms, fence ttl ms, then metadata as key, value pairs,
// stored as md:<key> fields so HGETALL shows them verbatim.
// Reply: {1, token} when acquired; {0, pttl ms of the holder} when held.
var acquireScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
	return {0, redis.call('PTTL', KEYS[1])}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local token = now
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if last and last + 1 > token then
	token = last + 1
end
redis.call('SET', KEYS[2], string.format('%.0f', token), 'PX', ARGV[3])
local f = {'owner', ARGV[1], 'token', string.format('%.0f', token), 'at', string.format('%.0f', now)}
for i = 4, #ARGV, 2 do
	f[#f + 1] = 'md:' .. ARGV[i]
	f[#f + 1] = ARGV[i + 1]
end
redis.call('HSET', KEYS[1], unpack(f))
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

// releaseScript deletes KEYS[1] only if ARGV[1] owns it, and tells waiters
// on channel ARGV[2] so they retry at once instead of at the old expiry.
//
// ARGV: owner, channel.
var releaseScript = redis.NewScript(`
local o = redis.call('HGET', KEYS[1], 'owner')
if o == ARGV[1] then
	redis.call('DEL', KEYS[1])
	redis.call('PUBLISH', ARGV[2], '1')
	return 1
end
if not o then return 0 end
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
