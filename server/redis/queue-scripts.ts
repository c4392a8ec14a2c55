// The Lua scripts of the Redis queue: one FIFO for the cluster (a sorted set of waiting
// ids scored by a creation counter), claims with a lease (a sorted set of claimed ids
// scored by lease expiry on Redis's clock) and the job's epoch in its record, bumped in
// the same step as the claim or the release that ends a claim. Steps that change the
// waiting line add a `q` entry to the feed, in the same stream as the events.

import { FEED_ADD, FINAL_STATUS, NOW_MS, REPLY_CACHE } from './lua-lib.js';

/** The claim (id, epoch) is still the job's current one. */
const IS_CURRENT = `
local function isCurrent(P, id, fence)
  if not redis.call('ZSCORE', P .. 'queue:active', id) then return false end
  return tonumber(redis.call('HGET', P .. 'job:' .. id, 'epoch') or '-1') == tonumber(fence)
end`;

/** Puts the job back in the waiting line at its creation place; returns its position. */
const RETURN_TO_LINE = `
local function returnToLine(P, id, maxLen)
  local job = P .. 'job:' .. id
  redis.call('ZREM', P .. 'queue:active', id)
  redis.call('HDEL', job, 'owner')
  redis.call('ZADD', P .. 'queue:waiting', redis.call('HGET', job, 'qorder'), id)
  redis.call('ZADD', P .. 'queue:enqueued', nowMs(), id)
  feedAdd(P, maxLen, 'q', '', '')
  return redis.call('ZRANK', P .. 'queue:waiting', id) + 1
end`;

/**
 * Queue.enqueue: a job waiting already keeps its place (its enqueue time is updated); a
 * claimed one is refused. The store's create script already put the job in the line (so
 * that a crash before this call cannot strand it): a first enqueue that finds the job
 * gone from the line again (another process claimed it, or it was cancelled, in between)
 * answers position 1, where the job was when it left.
 * ARGV: prefix, id, enqueuedAt, feed length. Returns the position.
 */
export const ENQUEUE = `
${FEED_ADD}
local P, id = ARGV[1], ARGV[2]
local job = P .. 'job:' .. id
local h = redis.call('HMGET', job, 'status', 'enqueued')
if not h[1] then return redis.error_reply('ERR job ' .. id .. ' does not exist') end
redis.call('HSET', job, 'enqueued', 1)
local rank = redis.call('ZRANK', P .. 'queue:waiting', id)
if rank then
  redis.call('ZADD', P .. 'queue:enqueued', ARGV[3], id)
  return rank + 1
end
if not h[2] and redis.call('HGET', job, 'qorder') then return 1 end
if redis.call('ZSCORE', P .. 'queue:active', id) then
  return redis.error_reply('ERR job ' .. id .. ' is claimed: it comes back through putBack')
end
redis.call('ZADD', P .. 'queue:enqueued', ARGV[3], id)
local order = redis.call('HGET', job, 'qorder')
if not order then
  order = redis.call('INCR', P .. 'counter:queue')
  redis.call('HSET', job, 'qorder', order)
end
redis.call('ZADD', P .. 'queue:waiting', order, id)
feedAdd(P, ARGV[4], 'q', '', '')
return redis.call('ZRANK', P .. 'queue:waiting', id) + 1
`;

/**
 * Queue.claim: takes the front job, bumps its epoch (the claim's fence token), records
 * the owner and the lease. A deleted or finished job found at the front is dropped.
 * ARGV: prefix, owner, lease ms, nonce, feed length. Returns JSON: [id, epoch] or null.
 */
export const CLAIM = `
${FEED_ADD}
${FINAL_STATUS}
${NOW_MS}
${REPLY_CACHE}
local P = ARGV[1]
local cached = cachedReply(P, ARGV[4])
if cached then return cached end
while true do
  local popped = redis.call('ZPOPMIN', P .. 'queue:waiting')
  if #popped == 0 then return 'null' end
  local id = popped[1]
  redis.call('ZREM', P .. 'queue:enqueued', id)
  local job = P .. 'job:' .. id
  local status = redis.call('HGET', job, 'status')
  feedAdd(P, ARGV[5], 'q', '', '')
  if status and not FINAL[status] then
    local epoch = redis.call('HINCRBY', job, 'epoch', 1)
    redis.call('HSET', job, 'owner', ARGV[2])
    redis.call('ZADD', P .. 'queue:active', nowMs() + tonumber(ARGV[3]), id)
    return remember(P, ARGV[4], cjson.encode({id, epoch}))
  end
end
`;

/** Queue.renew. ARGV: prefix, id, fence, lease ms. Returns 1, or 0 when the claim is not current. */
export const RENEW = `
${NOW_MS}
${IS_CURRENT}
local P, id = ARGV[1], ARGV[2]
if not isCurrent(P, id, ARGV[3]) then return 0 end
redis.call('ZADD', P .. 'queue:active', 'XX', nowMs() + tonumber(ARGV[4]), id)
return 1
`;

/** Queue.ack. ARGV: prefix, id, fence. Returns 1, or 0 when the claim is not current. */
export const ACK = `
${IS_CURRENT}
local P, id = ARGV[1], ARGV[2]
if not isCurrent(P, id, ARGV[3]) then return 0 end
redis.call('ZREM', P .. 'queue:active', id)
redis.call('HDEL', P .. 'job:' .. id, 'owner')
return 1
`;

/**
 * Queue.putBack: the epoch is not bumped (the owner appends job.requeued with its token).
 * ARGV: prefix, id, fence, nonce, feed length. Returns JSON: the position, or null.
 */
export const PUT_BACK = `
${FEED_ADD}
${NOW_MS}
${REPLY_CACHE}
${IS_CURRENT}
${RETURN_TO_LINE}
local P, id = ARGV[1], ARGV[2]
local cached = cachedReply(P, ARGV[4])
if cached then return cached end
if not isCurrent(P, id, ARGV[3]) then return 'null' end
return remember(P, ARGV[4], tostring(returnToLine(P, id, ARGV[5])))
`;

/** Queue.remove. ARGV: prefix, id, feed length. Returns 1, or 0 when the job was not waiting. */
export const REMOVE = `
${FEED_ADD}
local P, id = ARGV[1], ARGV[2]
if redis.call('ZREM', P .. 'queue:waiting', id) == 0 then return 0 end
redis.call('ZREM', P .. 'queue:enqueued', id)
feedAdd(P, ARGV[3], 'q', '', '')
return 1
`;

/**
 * Queue.expired: claims whose lease ran out on Redis's clock, oldest first, with the
 * job's current epoch (so that a claim its owner lost to an ownerless append is released
 * too). ARGV: prefix, limit. Returns JSON: [[id, epoch, owner, expiredAt], ...].
 */
export const EXPIRED = `
${NOW_MS}
local P = ARGV[1]
local list = redis.call('ZRANGEBYSCORE', P .. 'queue:active', '-inf', string.format('(%d', nowMs()),
  'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i = 1, #list, 2 do
  local h = redis.call('HMGET', P .. 'job:' .. list[i], 'epoch', 'owner')
  out[#out + 1] = {list[i], tonumber(h[1] or '0'), h[2] or '', tonumber(list[i + 1])}
end
if #out == 0 then return '[]' end
return cjson.encode(out)
`;

/**
 * Queue.release: takes an expired claim from its owner (checked again here: still
 * expired, still that epoch), bumps the epoch so the old owner can append nothing more,
 * and returns the job to its place. A finished or deleted job is only forgotten.
 * ARGV: prefix, id, fence, nonce, feed length. Returns JSON: [position, new epoch] or null.
 */
export const RELEASE = `
${FEED_ADD}
${FINAL_STATUS}
${NOW_MS}
${REPLY_CACHE}
${RETURN_TO_LINE}
local P, id = ARGV[1], ARGV[2]
local cached = cachedReply(P, ARGV[4])
if cached then return cached end
local score = redis.call('ZSCORE', P .. 'queue:active', id)
if not score or tonumber(score) >= nowMs() then return 'null' end
local job = P .. 'job:' .. id
local h = redis.call('HMGET', job, 'epoch', 'status')
if h[2] and tonumber(h[1] or '0') ~= tonumber(ARGV[3]) then return 'null' end
if not h[2] or FINAL[h[2]] then
  redis.call('ZREM', P .. 'queue:active', id)
  return 'null'
end
local epoch = redis.call('HINCRBY', job, 'epoch', 1)
local position = returnToLine(P, id, ARGV[5])
return remember(P, ARGV[4], cjson.encode({position, epoch}))
`;
