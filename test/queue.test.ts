// The Queue contract (test/contracts/queue-contract.ts) run against every queue; the
// in-process queue over each store, since the fence tokens of its claims come from it.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { LocalFeed } from '../server/feed/local-feed.js';
import { LocalQueue } from '../server/queue/local-queue.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { openSqliteStore } from '../server/store/sqlite-store.js';
import type { Store } from '../server/store/store.js';
import { createLogger } from '../server/logger.js';
import { openRedisBackend } from '../server/redis/redis-backend.js';
import { queueContract, type QueueRig } from './contracts/queue-contract.js';
import { redisSkipReason, sharedRedis, uniquePrefix } from './helpers/redis.js';

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

/** Two processes on one Redis (two backends, same prefix): the queue, and the same queue as the other process sees it. */
async function onRedis(t: TestContext): Promise<QueueRig> {
  const { url } = await sharedRedis();
  const options = { logSize: 100, prefix: uniquePrefix('queue'), logger: createLogger('silent') };
  const first = await openRedisBackend(url, options);
  const second = await openRedisBackend(url, options);
  t.after(() => Promise.all([first.close(), second.close()]));
  let moves = 0;
  first.feed.on('queueMoved', () => moves++);
  return { queue: first.queue, otherProcess: second.queue, store: first.store, moves: () => moves };
}

const redisSkip = redisSkipReason();
if (redisSkip === null) queueContract('redis', onRedis);
else test('redis queue contract', { skip: redisSkip }, () => undefined);
