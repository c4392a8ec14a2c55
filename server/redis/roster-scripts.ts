// The Lua scripts of the Redis roster: each process's last heartbeat in a hash that
// expires (`P process:ID`: `r` the report as JSON, `at` the heartbeat's time on Redis's
// clock), and an index of the ids scored by their expiry (`P processes`), so a list
// reads only the processes alive. Expired ids leave the index at every heartbeat and
// every list: it never holds more than the records that have not expired.

import { NOW_MS } from './lua-lib.js';

/** Removes the ids whose record expired: their score (the expiry) is before now. */
const PRUNE = `
local function prune(index, now)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', string.format('(%d', now))
end`;

/**
 * Roster.report: keeps the report for ttl ms from now. A process not listed yet is not
 * added once the index holds `limit` ids. ARGV: prefix, id, report JSON, ttlMs, limit.
 * Returns 1 when kept, 0 when refused for the limit.
 */
export const BEAT = `
${NOW_MS}
${PRUNE}
local P, id, ttl = ARGV[1], ARGV[2], tonumber(ARGV[4])
local index, key = P .. 'processes', P .. 'process:' .. ARGV[2]
local now = nowMs()
prune(index, now)
if not redis.call('ZSCORE', index, id) and redis.call('ZCARD', index) >= tonumber(ARGV[5]) then return 0 end
redis.call('HSET', key, 'r', ARGV[3], 'at', string.format('%d', now))
-- At the same instant as the index's score, not ttl from the script's start (Redis's clock
-- for relative expiries, which a busy machine can put milliseconds before TIME): the record
-- lasts exactly one ttl after the heartbeat time it carries.
redis.call('PEXPIREAT', key, string.format('%d', now + ttl))
redis.call('ZADD', index, string.format('%d', now + ttl), id)
return 1
`;

/**
 * Roster.list: the reports alive, at most `limit`. ARGV: prefix, limit.
 * Returns [now, at1, report1, at2, report2, ...]: times in ms on Redis's clock.
 */
export const ROSTER = `
${NOW_MS}
${PRUNE}
local P = ARGV[1]
local index = P .. 'processes'
local now = nowMs()
prune(index, now)
local out = {string.format('%d', now)}
for _, id in ipairs(redis.call('ZRANGE', index, 0, tonumber(ARGV[2]) - 1)) do
  local h = redis.call('HMGET', P .. 'process:' .. id, 'r', 'at')
  if h[1] then
    out[#out + 1] = h[2]
    out[#out + 1] = h[1]
  else
    redis.call('ZREM', index, id)
  end
end
return out
`;

/** Roster.remove: the record and its index entry. ARGV: prefix, id. */
export const LEAVE = `
local P, id = ARGV[1], ARGV[2]
redis.call('DEL', P .. 'process:' .. id)
redis.call('ZREM', P .. 'processes', id)
return 1
`;
