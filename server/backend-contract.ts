// What a backend is: the Store, Queue, Feed and Roster the jobs stand on, opened
// together for one --store (backend.ts opens the in-process ones, redis/ the shared one).
// Its own file, so that an implementation imports the contract and not the code that
// chooses between implementations.

import type { Feed } from './feed/feed.js';
import type { Queue } from './queue/queue.js';
import type { Roster } from './roster/roster.js';
import type { Store } from './store/store.js';

export interface Backend {
  store: Store;
  queue: Queue;
  feed: Feed;
  /** The processes sharing the store: the one process, or every process on the Redis. */
  roster: Roster;
  /**
   * True when the queue lives in this process (memory, SQLite): it is rebuilt from the
   * store at start (jobs/recovery.ts). A shared queue outlives its processes, and the
   * claims of a process that died come back through their expired leases (jobs/takeover.ts).
   */
  isLocal: boolean;
  /**
   * Runs `task` unless another process sharing the store runs the same `name` now (the
   * retention and spool sweeps); resolves with its result, or null when it was skipped.
   * A lock held by a process that died frees itself after `ttlMs`.
   */
  exclusive<T>(name: string, ttlMs: number, task: () => Promise<T>): Promise<T | null>;
  /** Closes the feed, the queue and the store; safe to call twice. */
  close(): Promise<void>;
}
