// The Lua scripts of the Redis store: each atomic step of the Store contract is one
// script, so no other client's command can land between its checks and its writes.
// Nothing is folded here: the caller folds the event with the shared reducer from the
// snapshot at the seq it names, and the script refuses the write when that seq is not
// the job's (keys.ts lists every key).

import { FEED_ADD, FINAL_STATUS } from './lua-lib.js';

/**
 * Creates a job: its record, its first log entry, the job indexes, its place in the
 * waiting line (in the same step, so that no crash can leave a queued job outside the
 * queue) and the event on the feed. A resend of the same call (same nonce) answers as
 * the first did. ARGV: prefix, id, event JSON, base JSON, search text, createdAt, nonce,
 * feed length. Returns {'ok', n} or {'exists'}.
 */
export const CREATE = `
${FEED_ADD}
local P, id = ARGV[1], ARGV[2]
local job, log = P .. 'job:' .. id, P .. 'log:' .. id
if redis.call('EXISTS', job) == 1 then
  local h = redis.call('HMGET', job, 'nonce', 'n')
  if h[1] == ARGV[7] then return {'ok', h[2]} end
  return {'exists'}
end
local n = redis.call('INCR', P .. 'counter:jobs')
local order = redis.call('INCR', P .. 'counter:queue')
redis.call('HSET', job, 'n', n, 'seq', 1, 'baseSeq', 1, 'base', ARGV[4], 'status', 'queued', 'epoch', 0,
  'nonce', ARGV[7], 'search', ARGV[5], 'createdAt', ARGV[6], 'qorder', order)
redis.call('RPUSH', log, ARGV[3])
redis.call('ZADD', P .. 'jobs', n, id)
redis.call('ZADD', P .. 'status:queued', n, id)
redis.call('ZADD', P .. 'queue:waiting', order, id)
redis.call('ZADD', P .. 'queue:enqueued', ARGV[6], id)
feedAdd(P, ARGV[8], 'e', id, ARGV[3])
feedAdd(P, ARGV[8], 'q', '', '')
return {'ok', n}
`;

/**
 * Appends one event (Store.append). Checks, in this order: the job exists; a resend of
 * this very append (same nonce, already written) answers 'ok' again; the fence token is
 * the job's epoch (an empty token skips the check and bumps the epoch: an ownerless
 * append revokes the owner); the job is not finished; the caller's seq is the job's
 * (else 'conflict': the caller reloads and folds again). Then appends, trims the log to
 * the last `logSize` events (never below the base: the snapshot is the base folded with
 * the events after it), writes the new base and status when given, keeps the indexes,
 * takes a finished job out of the queue (a cancel of a job whose owner is dead leaves no
 * claim to take over) and adds the event to the feed.
 * ARGV: prefix, id, fence or '', seq before, event JSON, nonce, logSize, base JSON or '',
 * status, finishedAt or '', '1' when final, feed length.
 */
export const APPEND = `
${FEED_ADD}
${FINAL_STATUS}
local P, id = ARGV[1], ARGV[2]
local job, log = P .. 'job:' .. id, P .. 'log:' .. id
local h = redis.call('HMGET', job, 'seq', 'epoch', 'status', 'nonce', 'baseSeq', 'n')
if not h[1] then return {'missing'} end
local seq, before = tonumber(h[1]), tonumber(ARGV[4])
if h[4] == ARGV[6] and seq == before + 1 then return {'ok', seq} end
if ARGV[3] ~= '' and tonumber(ARGV[3]) ~= tonumber(h[2] or '0') then return {'fenced'} end
if FINAL[h[3]] then return {'finished'} end
if seq ~= before then return {'conflict', seq} end
local nextSeq, baseSeq = seq + 1, tonumber(h[5])
redis.call('RPUSH', log, ARGV[5])
redis.call('HSET', job, 'seq', nextSeq, 'nonce', ARGV[6])
if ARGV[8] ~= '' then
  baseSeq = nextSeq
  redis.call('HSET', job, 'base', ARGV[8], 'baseSeq', nextSeq, 'status', ARGV[9])
  if ARGV[9] ~= h[3] then
    redis.call('ZREM', P .. 'status:' .. h[3], id)
    redis.call('ZADD', P .. 'status:' .. ARGV[9], h[6], id)
  end
  if ARGV[10] ~= '' then
    redis.call('HSET', job, 'finishedAt', ARGV[10])
    redis.call('ZADD', P .. 'finished', ARGV[10], id)
  end
end
if ARGV[3] == '' then redis.call('HINCRBY', job, 'epoch', 1) end
local keep = math.max(tonumber(ARGV[7]), nextSeq - baseSeq)
redis.call('LTRIM', log, -keep, -1)
if ARGV[11] == '1' then
  redis.call('ZREM', P .. 'queue:active', id)
  redis.call('HDEL', job, 'owner')
  if redis.call('ZREM', P .. 'queue:waiting', id) == 1 then
    redis.call('ZREM', P .. 'queue:enqueued', id)
    feedAdd(P, ARGV[12], 'q', '', '')
  end
end
feedAdd(P, ARGV[12], 'e', id, ARGV[5])
return {'ok', nextSeq}
`;

/**
 * Reads what a snapshot is folded from: {seq} alone when the caller already holds that
 * seq, else {seq, baseSeq, base, events after the base...}; nil for an unknown job.
 * ARGV: prefix, id, the seq the caller holds ('' for none).
 */
export const LOAD = `
local P, id = ARGV[1], ARGV[2]
local job, log = P .. 'job:' .. id, P .. 'log:' .. id
local h = redis.call('HMGET', job, 'seq', 'baseSeq', 'base')
if not h[1] then return false end
if h[1] == ARGV[3] then return {h[1]} end
local seq, baseSeq = tonumber(h[1]), tonumber(h[2])
local first = seq - redis.call('LLEN', log) + 1
if baseSeq + 1 < first then return redis.error_reply('job ' .. id .. ' is damaged: its log starts after its base') end
local out = {h[1], h[2], h[3]}
for _, event in ipairs(redis.call('LRANGE', log, baseSeq + 1 - first, -1)) do out[#out + 1] = event end
return out
`;

/**
 * The events after `since` when the log still holds every one of them (an empty list
 * when the caller is up to date); nil when it does not, for a `since` past the job's
 * seq, or for an unknown job. ARGV: prefix, id, since.
 */
export const SINCE = `
local P, id = ARGV[1], ARGV[2]
local seq = tonumber(redis.call('HGET', P .. 'job:' .. id, 'seq'))
local since = tonumber(ARGV[3])
if not seq or since > seq then return false end
if since == seq then return {} end
local log = P .. 'log:' .. id
local first = seq - redis.call('LLEN', log) + 1
if since + 1 < first then return false end
return redis.call('LRANGE', log, since + 1 - first, -1)
`;

/**
 * Bumps the job's epoch: the fence token of a new ownership (Store.issueFence). Nil for
 * an unknown job. ARGV: prefix, id.
 */
export const FENCE = `
local job = ARGV[1] .. 'job:' .. ARGV[2]
if redis.call('EXISTS', job) == 0 then return false end
return redis.call('HINCRBY', job, 'epoch', 1)
`;

/**
 * Removes a job, its log, its place in every index and in the queue. Returns 1, or 0
 * for an unknown job. ARGV: prefix, id, feed length.
 */
export const DELETE = `
${FEED_ADD}
local P, id = ARGV[1], ARGV[2]
local job = P .. 'job:' .. id
local status = redis.call('HGET', job, 'status')
if not status then return 0 end
redis.call('ZREM', P .. 'jobs', id)
redis.call('ZREM', P .. 'status:' .. status, id)
redis.call('ZREM', P .. 'finished', id)
redis.call('ZREM', P .. 'queue:active', id)
redis.call('ZREM', P .. 'queue:enqueued', id)
if redis.call('ZREM', P .. 'queue:waiting', id) == 1 then feedAdd(P, ARGV[3], 'q', '', '') end
redis.call('DEL', job, P .. 'log:' .. id)
return 1
`;

/**
 * A page of jobs whose search text contains `q`, newest first, below a creation number.
 * Looks at no more than `maxScan` jobs per call, so no call holds Redis for long; the
 * caller goes on from the returned score. ARGV: prefix, index key, before (exclusive),
 * how many to find, q, maxScan. Returns {score the scan stopped at or '', id, n, id, n...}.
 */
export const SEARCH = `
local P, index = ARGV[1], ARGV[2]
local cursor, wanted, q, budget = '(' .. ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local out = {''}
local found = 0
while budget > 0 do
  local batch = redis.call('ZREVRANGEBYSCORE', index, cursor, '-inf', 'WITHSCORES', 'LIMIT', 0, math.min(200, budget))
  if #batch == 0 then return out end
  for i = 1, #batch, 2 do
    budget = budget - 1
    local text = redis.call('HGET', P .. 'job:' .. batch[i], 'search')
    if text and string.find(text, q, 1, true) then
      out[#out + 1] = batch[i]
      out[#out + 1] = batch[i + 1]
      found = found + 1
      if found == wanted then return out end
    end
    cursor = '(' .. batch[i + 1]
  end
end
out[1] = string.sub(cursor, 2)
return out
`;
