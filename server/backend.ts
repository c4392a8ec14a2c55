// Turns --store into the parts the jobs stand on: a Store (records and logs), a Queue
// (the waiting line, claims and leases) and a Feed (what every process hears), and the
// Roster of the processes sharing them (their heartbeats). The memory and SQLite stores
// are kept by one process, so their queue, feed and roster live in that process too;
// Redis is shared by processes and brings a shared queue, feed and roster.

import type { Backend } from './backend-contract.js';
import { LocalFeed } from './feed/local-feed.js';
import type { Logger } from './logger.js';
import { LocalQueue } from './queue/local-queue.js';
import { LocalRoster } from './roster/local-roster.js';
import { openStore } from './store/open-store.js';
import type { StoreOptions } from './store/store.js';

export type { Backend } from './backend-contract.js';

export interface BackendOptions extends StoreOptions {
  /** --redis-prefix: every Redis key starts with it (default `jobcast:`). */
  redisPrefix?: string;
  /** Where the Redis backend logs its checks and feed losses. */
  logger: Logger;
}

/** Opens the store named by `url` (--store; see openStore, and `redis://` below) with the queue and feed that go with it. */
export async function openBackend(url: string, options: BackendOptions): Promise<Backend> {
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    const { openRedisBackend } = await import('./redis/redis-backend.js');
    return openRedisBackend(url, { logSize: options.logSize, prefix: options.redisPrefix ?? 'jobcast:', logger: options.logger });
  }
  const store = await openStore(url, options);
  const feed = new LocalFeed();
  const queue = new LocalQueue({
    issueFence: (id) => store.issueFence(id),
    onMoved: () => void feed.publish({ kind: 'queueMoved' }),
  });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await feed.close();
      await queue.close();
      await store.close();
    })());
  // One process: nobody to share a sweep with.
  return { store, queue, feed, roster: new LocalRoster(), isLocal: true, close, exclusive: (_name, _ttlMs, task) => task() };
}
