package redislocks

import "github.com/redis/go-redis/v9"

// The ledger's scripts touch the two keys of one schedule, which share a
// hash tag: KEYS[1] is the schedule's hash, KEYS[2] its list of records.
//
// The hash holds the definition (spec, loc), the paused flag, the latest
// tick done (done in µs for ordering, done_ns for identity), the last
// fencing token, the claim slot (c_* fields), the running record and the
// newest finished one (JSON), and pending run-now requests (req:<id>).
// List entries are "<ms>|<json>", ms being the record's age stamp, so that
// records past the maximum age are trimmed without decoding them.
//
// Ticks are carried twice: as Unix nanoseconds in a string (identity) and
// as Unix µs in a number (order; a double holds µs exactly).
//
// Every script but the push-free ones starts with ledgerPrelude, which
// reads the time and records a lapsed claim's run as abandoned.

// ledgerPrelude defines now (ms and ns string) from ARGV[1] (ns of the
// adapter's clock, or "" for Redis's clock), the retention from ARGV[2]
// (history) and ARGV[3] (max age ms), push and abandon.
const ledgerPrelude = `
local now_ns = ARGV[1]
if now_ns == '' then
	local t = redis.call('TIME')
	now_ns = t[1] .. string.format('%06d', tonumber(t[2])) .. '000'
end
local now_ms = tonumber(string.sub(now_ns, 1, -7))
local history = tonumber(ARGV[2])
local cutoff = now_ms - tonumber(ARGV[3])

local function push(json, at_ms)
	redis.call('LPUSH', KEYS[2], string.format('%.0f', at_ms) .. '|' .. json)
	redis.call('LTRIM', KEYS[2], 0, history - 1)
	while true do
		local tail = redis.call('LINDEX', KEYS[2], -1)
		if not tail then break end
		local ms = tonumber(string.match(tail, '^(%d+)|'))
		if not ms or ms >= cutoff then break end
		redis.call('RPOP', KEYS[2])
	end
	redis.call('HSET', KEYS[1], 'last', json)
end

local function abandon()
	local c = redis.call('HMGET', KEYS[1], 'c_owner', 'c_until', 'c_tick', 'c_manual', 'c_attempt', 'c_inst', 'c_token', 'c_final')
	if not c[1] or c[1] == '' or tonumber(c[2]) > now_ms then return end
	redis.call('HSET', KEYS[1], 'c_owner', '')
	local rec
	local run = redis.call('HGET', KEYS[1], 'running')
	if run then
		local r = cjson.decode(run)
		if r.tick == c[3] and (r.manual == true) == (c[4] == '1') and tonumber(r.attempt) == tonumber(c[5]) then
			rec = r
		end
		redis.call('HDEL', KEYS[1], 'running')
	end
	if not rec then
		-- The attempt already has its final record (it failed, and its
		-- instance died waiting to retry): one record per attempt.
		if c[8] == '1' then return end
		rec = {tick = c[3], manual = (c[4] == '1'), attempt = tonumber(c[5]), instance = c[6], token = c[7]}
	end
	rec.outcome = 'abandoned'
	rec.finished = now_ns
	push(cjson.encode(rec), now_ms)
end

if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
abandon()
`

// ledgerClaimScript asks for the run slot.
//
// ARGV 4..: tick ns, tick µs, manual (0/1), owner, instance, ttl ms,
// run-now request id (empty for none), request TTL ms. A manual claim of a
// request that is gone (finished, taken or expired) is done.
// Reply: {1, attempt, token, prev done ns} won; {2, tick ns, instance,
// ms left} held; {3} done; {4} paused; {-1} unknown schedule.
var ledgerClaimScript = redis.NewScript(ledgerPrelude + `
local tick_ns, tick_us, manual, owner = ARGV[4], tonumber(ARGV[5]), ARGV[6] == '1', ARGV[7]
local h = redis.call('HMGET', KEYS[1], 'done', 'paused', 'c_tick', 'c_us', 'c_manual', 'c_owner', 'c_inst', 'c_attempt', 'c_until', 'done_ns', 'token', 'c_req')
local req = ARGV[10]
if manual and req ~= '' then
	local at = redis.call('HGET', KEYS[1], 'req:' .. req)
	if not at or tonumber(at) + tonumber(ARGV[11]) < now_ms then
		redis.call('HDEL', KEYS[1], 'req:' .. req)
		return {3}
	end
end
if not manual then
	if h[1] and tonumber(h[1]) >= tick_us then return {3} end
	if h[2] == '1' then
		redis.call('HSET', KEYS[1], 'done', ARGV[5], 'done_ns', tick_ns)
		return {4}
	end
end
local live = h[6] and h[6] ~= '' and tonumber(h[9]) > now_ms
local same = h[3] == tick_ns and (h[5] == '1') == manual and (h[12] or '') == req
local later = (not manual) and h[5] ~= '1' and h[4] ~= false and tonumber(h[4]) > tick_us
if live and not (same and h[6] == owner) then
	if later then return {3} end
	redis.call('HSET', KEYS[1], 'c_waited', '1')
	return {2, h[3], h[7], tonumber(h[9]) - now_ms}
end
if later then return {3} end
local attempt = 1
if same then attempt = tonumber(h[8]) + 1 end
local t = redis.call('TIME')
local token = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(h[11] or '0')
if last + 1 > token then token = last + 1 end
local tok = string.format('%.0f', token)
local m = '0'
if manual then m = '1' end
local rec = {tick = tick_ns, manual = manual, attempt = attempt, instance = ARGV[8], token = tok, outcome = 'running', started = now_ns}
redis.call('HSET', KEYS[1], 'token', tok, 'c_tick', tick_ns, 'c_us', ARGV[5], 'c_manual', m, 'c_owner', owner,
	'c_inst', ARGV[8], 'c_attempt', attempt, 'c_token', tok, 'c_req', req, 'c_waited', '0', 'c_final', '0', 'c_until', string.format('%.0f', now_ms + tonumber(ARGV[9])),
	'running', cjson.encode(rec))
return {1, attempt, tok, h[10] or ''}
`)

// ledgerRenewScript extends the caller's live claim.
//
// ARGV 4..: tick ns, manual, owner, ttl ms, request id. Reply {1}
// renewed, {0} not.
var ledgerRenewScript = redis.NewScript(ledgerPrelude + `
local h = redis.call('HMGET', KEYS[1], 'c_owner', 'c_tick', 'c_manual', 'c_until', 'c_req')
if h[1] ~= ARGV[6] or h[2] ~= ARGV[4] or h[3] ~= ARGV[5] or tonumber(h[4]) <= now_ms or (h[5] or '') ~= ARGV[8] then return {0} end
redis.call('HSET', KEYS[1], 'c_until', string.format('%.0f', now_ms + tonumber(ARGV[7])))
return {1}
`)

// ledgerEndScript finishes (done = 1) or releases a claim.
//
// ARGV 4..: tick ns, tick µs, manual, owner, done (0/1), request id,
// channel, message. Finishing a manual claim removes its request. Freeing
// a slot that another claim found held publishes the message (the
// schedule's name, then two NULs), so waiters elsewhere retry at once.
// Reply {1}.
var ledgerEndScript = redis.NewScript(ledgerPrelude + `
local h = redis.call('HMGET', KEYS[1], 'done', 'c_owner', 'c_tick', 'c_manual', 'c_req', 'c_waited')
if ARGV[8] == '1' and ARGV[6] == '0' and (not h[1] or tonumber(h[1]) < tonumber(ARGV[5])) then
	redis.call('HSET', KEYS[1], 'done', ARGV[5], 'done_ns', ARGV[4])
end
if ARGV[8] == '1' and ARGV[6] == '1' and ARGV[9] ~= '' then
	redis.call('HDEL', KEYS[1], 'req:' .. ARGV[9])
end
if ARGV[7] ~= '' and h[2] == ARGV[7] and h[3] == ARGV[4] and h[4] == ARGV[6] and (h[5] or '') == ARGV[9] then
	redis.call('HSET', KEYS[1], 'c_owner', '', 'c_until', '0', 'c_waited', '0')
	if h[6] == '1' then redis.call('PUBLISH', ARGV[10], ARGV[11]) end
end
return {1}
`)

// ledgerPutScript records a run.
//
// ARGV 4..: json, tick ns, manual (0/1), attempt, running (0/1), age ms.
// Reply {1}.
var ledgerPutScript = redis.NewScript(ledgerPrelude + `
if ARGV[8] == '1' then
	redis.call('HSET', KEYS[1], 'running', ARGV[4])
	return {1}
end
local run = redis.call('HGET', KEYS[1], 'running')
if run then
	local r = cjson.decode(run)
	if r.tick == ARGV[5] and (r.manual == true) == (ARGV[6] == '1') and tonumber(r.attempt) == tonumber(ARGV[7]) then
		redis.call('HDEL', KEYS[1], 'running')
	end
end
local c = redis.call('HMGET', KEYS[1], 'c_tick', 'c_manual', 'c_attempt')
if c[1] == ARGV[5] and c[2] == ARGV[6] and tonumber(c[3]) == tonumber(ARGV[7]) then
	redis.call('HSET', KEYS[1], 'c_final', '1')
end
push(ARGV[4], tonumber(ARGV[9]))
return {1}
`)

// ledgerViewScript reads a schedule (abandoning a lapsed claim's run first).
//
// ARGV 4: how many list entries (0: none, -1: all).
// Reply: {1, spec, loc, paused, done ns, last, running, entries...}.
var ledgerViewScript = redis.NewScript(ledgerPrelude + `
local h = redis.call('HMGET', KEYS[1], 'spec', 'loc', 'paused', 'done_ns', 'last', 'running')
local out = {1, h[1] or '', h[2] or '', h[3] or '0', h[4] or '', h[5] or '', h[6] or ''}
local n = tonumber(ARGV[4])
if n ~= 0 then
	local stop = n - 1
	if n < 0 then stop = -1 end
	for _, e in ipairs(redis.call('LRANGE', KEYS[2], 0, stop)) do out[#out + 1] = e end
end
return out
`)

// ledgerPauseScript sets the paused flag. ARGV 4: 0/1. Reply {1}.
var ledgerPauseScript = redis.NewScript(ledgerPrelude + `
redis.call('HSET', KEYS[1], 'paused', ARGV[4])
return {1}
`)

// ledgerRequestScript stores a run-now request and publishes it, dropping
// requests older than the request TTL first.
//
// ARGV 4..: id, request TTL ms, max pending, channel, message (the
// request time in ns is appended to it).
// Reply {1} stored; {0, pending} too many.
var ledgerRequestScript = redis.NewScript(ledgerPrelude + `
local h = redis.call('HGETALL', KEYS[1])
local pending = 0
for i = 1, #h, 2 do
	if string.sub(h[i], 1, 4) == 'req:' then
		if tonumber(h[i + 1]) + tonumber(ARGV[5]) < now_ms then
			redis.call('HDEL', KEYS[1], h[i])
		else
			pending = pending + 1
		end
	end
end
if pending >= tonumber(ARGV[6]) then return {0, pending} end
-- The request's time is kept in ms, so the push and PendingRequests give
-- every instance the same tick for its claim.
local at_ns = string.format('%.0f', now_ms) .. '000000'
redis.call('HSET', KEYS[1], 'req:' .. ARGV[4], string.format('%.0f', now_ms))
redis.call('PUBLISH', ARGV[7], ARGV[8] .. at_ns)
return {1, at_ns}
`)

// ledgerTakeScript claims a pending request. ARGV 4..: id, request TTL ms.
// Reply {1} taken; {0} gone or expired.
var ledgerTakeScript = redis.NewScript(ledgerPrelude + `
local at = redis.call('HGET', KEYS[1], 'req:' .. ARGV[4])
if not at then return {0} end
redis.call('HDEL', KEYS[1], 'req:' .. ARGV[4])
if tonumber(at) + tonumber(ARGV[5]) < now_ms then return {0} end
return {1}
`)

// ledgerHeartbeatScript records a heartbeat. KEYS[1] is the fleet's sorted
// set of heartbeats (member: instance, score: expiry in ms of the adapter's
// clock), KEYS[2] the instance's list of schedules. ARGV: now (ms), ttl
// (ms), instance, "set" (replace the list with ARGV[5]) or "keep" (keep
// it, unless the heartbeat had lapsed: it lapsed with it). Lapsed
// members are dropped on the way, and both keys expire with the heartbeat,
// so neither outlives the fleet.
var ledgerHeartbeatScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local prev = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[3]))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
local pttl = redis.call('PTTL', KEYS[1])
if pttl >= 0 and pttl < ttl or pttl == -1 then
	redis.call('PEXPIRE', KEYS[1], ttl)
end
if ARGV[4] == 'set' then
	redis.call('SET', KEYS[2], ARGV[5], 'PX', ttl)
elseif prev and prev > now then
	redis.call('PEXPIRE', KEYS[2], ttl)
else
	-- The list lapsed with the heartbeat, even where the key has not
	-- expired yet (a fake clock ahead of Redis's).
	redis.call('DEL', KEYS[2])
end
-- Whether the previous heartbeat was live: 0 tells a scheduler that the
-- instance is rejoining (it lapsed, or Redis lost its data).
if prev and prev > now then
	return 1
end
return 0
`)

var ledgerScripts = []*redis.Script{ledgerHeartbeatScript, ledgerClaimScript, ledgerRenewScript, ledgerEndScript, ledgerPutScript, ledgerViewScript, ledgerPauseScript, ledgerRequestScript, ledgerTakeScript}
