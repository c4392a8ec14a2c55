// The Queue contract (test/contracts/queue-contract.ts) run against every queue; the
// in-process queue over each store, since the fence tokens of its claims come from it.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { LocalFeed } from '../server/feed/local-feed.js';
import { LocalQueue } from '../server/queue/local-queue.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { openSqliteStore } from '../server/store/sqlite-store.js';
import type { Store } from '../server/store/store.js';
import { queueContract, type QueueRig } from './contracts/queue-contract.js';

/** The in-process queue over `store`, announcing its moves on an in-process feed as the server wires it. */
function inProcess(t: TestContext, store: Store): QueueRig {
  const feed = new LocalFeed();
  let moves = 0;
  feed.on('queueMoved', () => moves++);
  const queue = new LocalQueue({ issueFence: (id) => store.issueFence(id), onMoved: () => void feed.publish({ kind: 'queueMoved' }) });
  t.after(async () => {
    await queue.close();
    await feed.close();
    await store.close();
  });
  return { queue, store, moves: () => moves };
}

queueContract('in-process (memory store)', async (t) => inProcess(t, createMemoryStore({ logSize: 100 })));
queueContract('in-process (sqlite store)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'jobcast-queue-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return inProcess(t, await openSqliteStore(join(dir, 'jobs.db'), { logSize: 100 }));
});
