// The Lua scripts of the Redis feed: reading the stream together with how much of it has
// been trimmed away, in one atomic step, so that a reader knows exactly when it missed
// entries (redis-feed.ts), and publishing a notice.

import { FEED_ADD } from './lua-lib.js';

/**
 * Entries after `lastId` (at most `count`), with the count of entries ever added and the
 * stream's length at that same instant. ARGV: prefix, lastId, count.
 * Returns {added, length, entries}.
 */
export const FEED_READ = `
local key = ARGV[1] .. 'feed'
local added = tonumber(redis.call('GET', ARGV[1] .. 'feed:added') or '0')
local entries = redis.call('XRANGE', key, '(' .. ARGV[2], '+', 'COUNT', tonumber(ARGV[3]))
return {added, redis.call('XLEN', key), entries}
`;

/** Where a new reader starts: {added, id of the last entry or '0-0'}. ARGV: prefix. */
export const FEED_TAIL = `
local key = ARGV[1] .. 'feed'
local added = tonumber(redis.call('GET', ARGV[1] .. 'feed:added') or '0')
local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
if #last == 0 then return {added, '0-0'} end
return {added, last[1][1]}
`;

/** Adds a notice (c, d or q) to the feed. ARGV: prefix, feed length, kind, job id or ''. */
export const FEED_PUBLISH = `
${FEED_ADD}
feedAdd(ARGV[1], ARGV[2], ARGV[3], ARGV[4], '')
return 1
`;
