// Lua functions shared by the scripts (each script carries the ones it uses: Redis
// scripts cannot include one another).

/**
 * Adds an entry to the feed stream and counts it. The count of entries ever added, less
 * the stream's length, is how many were trimmed away: a reader that has read fewer than
 * that has missed entries (redis-feed.ts). MAXLEN ~ trims whole nodes, cheaply.
 * Fields: k (e: event, c: cancel, d: deleted, q: queue moved), j (job id), v (event JSON).
 */
export const FEED_ADD = `
local function feedAdd(P, maxLen, kind, job, value)
  redis.call('XADD', P .. 'feed', 'MAXLEN', '~', maxLen, '*', 'k', kind, 'j', job, 'v', value)
  redis.call('INCR', P .. 'feed:added')
end`;

export const FINAL_STATUS = `
local FINAL = {completed = true, failed = true, cancelled = true}`;

/** Milliseconds on Redis's clock: every process measures leases on the same one. */
export const NOW_MS = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

/**
 * For the queue steps that are not idempotent (claim, put back, release): the reply of a
 * step that acted is kept for ten minutes under the call's nonce, and a resend of the same
 * call (ioredis resends unanswered commands after a reconnect) gets it again instead of
 * acting twice. A step that did nothing keeps nothing: running it again is harmless, and
 * idle processes asking for work would otherwise leave a key per question.
 */
export const REPLY_CACHE = `
local function cachedReply(P, nonce)
  return redis.call('GET', P .. 'reply:' .. nonce)
end
local function remember(P, nonce, reply)
  redis.call('SET', P .. 'reply:' .. nonce, reply, 'EX', 600)
  return reply
end`;

/** Deletes a lock only while it still holds the caller's token (it may have expired and been taken). ARGV: key, token. */
export const UNLOCK = `
if redis.call('GET', ARGV[1]) == ARGV[2] then return redis.call('DEL', ARGV[1]) end
return 0
`;
