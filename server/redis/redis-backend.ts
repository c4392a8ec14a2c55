// `--store redis://...`: the Store, Queue, Feed and Roster that several processes share (SPEC 6),
// over two connections per process (commands, and the feed's blocking reads), after
// checking the Redis they were given (server-checks.ts).

import { randomUUID } from 'node:crypto';
import type { Backend } from '../backend-contract.js';
import type { Logger } from '../logger.js';
import type { StoreOptions } from '../store/store.js';
import { connectRedis, guarded, redactUrl, type RedisClient } from './client.js';
import { RedisFeed } from './redis-feed.js';
import { RedisQueue } from './redis-queue.js';
import { RedisRoster } from './redis-roster.js';
import { RedisStore } from './redis-store.js';
import { checkRedisServer } from './server-checks.js';

/**
 * Entries the feed stream keeps (about 30 MB of Redis memory for typical events): a
 * process that falls further behind than this resyncs its subscribers. At 10,000 events
 * per second it is ten seconds of slack.
 */
export const DEFAULT_FEED_LENGTH = 100_000;

export interface RedisBackendOptions extends StoreOptions {
  /** --redis-prefix. */
  prefix: string;
  logger: Logger;
  /** Default DEFAULT_FEED_LENGTH. */
  feedLength?: number;
}

/** A Backend with the Redis parts, for tests that reach below the contracts. */
export interface RedisBackend extends Backend {
  store: RedisStore;
  queue: RedisQueue;
  feed: RedisFeed;
  roster: RedisRoster;
  /** The command connection. */
  client: RedisClient;
}

/**
 * Connects to `url`, checks the server (ConfigError for an evicting or too old Redis),
 * and starts reading the feed. Rejects when Redis cannot be reached.
 */
export async function openRedisBackend(url: string, options: RedisBackendOptions): Promise<RedisBackend> {
  const { prefix, logger } = options;
  const feedLength = options.feedLength ?? DEFAULT_FEED_LENGTH;
  const client = await connectRedis(url, { name: 'jobcast' });
  let reader: RedisClient | null = null;
  try {
    await checkRedisServer(client, url, logger);
    reader = await connectRedis(url, { name: 'jobcast-feed', blocking: true });
  } catch (err) {
    client.redis.disconnect();
    throw err;
  }
  const store = new RedisStore(client, { logSize: options.logSize, prefix, feedLength, ownsClient: false });
  const queue = new RedisQueue(client, { prefix, feedLength });
  const feed = new RedisFeed(client, reader, { prefix, feedLength, logger, snapshotAt: (id, seq) => store.snapshotAt(id, seq) });
  const roster = new RedisRoster(client, prefix);
  await feed.start();
  logger.info({ store: redactUrl(url), prefix }, 'connected to Redis');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await feed.close();
      await queue.close();
      await store.close();
      await client.redis.quit().catch(() => client.redis.disconnect());
    })());
  return { store, queue, feed, roster, client, isLocal: false, close, exclusive: (name, ttlMs, task) => exclusive(client, prefix, name, ttlMs, task) };
}

/**
 * Runs `task` while holding a lock no other process holds (SET NX with an expiry, so a
 * holder that dies frees it after `ttlMs`); resolves null without running it when
 * another process holds it, or when Redis cannot be reached.
 */
async function exclusive<T>(client: RedisClient, prefix: string, name: string, ttlMs: number, task: () => Promise<T>): Promise<T | null> {
  const key = `${prefix}lock:${name}`;
  const token = randomUUID();
  const taken = await guarded(() => client.redis.set(key, token, 'PX', Math.ceil(ttlMs), 'NX')).catch(() => null);
  if (taken !== 'OK') return null;
  try {
    return await task();
  } finally {
    await client.run('jcUnlock', key, token).catch(() => undefined);
  }
}
