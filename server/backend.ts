// Turns --store into the three parts the jobs stand on: a Store (records and logs), a
// Queue (the waiting line, claims and leases) and a Feed (what every process hears).
// The memory and SQLite stores are kept by one process, so their queue and feed live in
// that process too; a shared store (Redis) will bring a shared queue and feed.

import { LocalFeed } from './feed/local-feed.js';
import type { Feed } from './feed/feed.js';
import { LocalQueue } from './queue/local-queue.js';
import type { Queue } from './queue/queue.js';
import { openStore } from './store/open-store.js';
import type { Store, StoreOptions } from './store/store.js';

export interface Backend {
  store: Store;
  queue: Queue;
  feed: Feed;
  /**
   * True when the queue lives in this process (memory, SQLite): it is rebuilt from the
   * store at start (jobs/recovery.ts). A shared queue outlives its processes.
   */
  isLocal: boolean;
  /** Closes the feed, the queue and the store; safe to call twice. */
  close(): Promise<void>;
}

/** Opens the store named by `url` (--store; see openStore) with the queue and feed that go with it. */
export async function openBackend(url: string, options: StoreOptions): Promise<Backend> {
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
  return { store, queue, feed, isLocal: true, close };
}
