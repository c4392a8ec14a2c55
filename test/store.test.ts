// The Store contract (test/contracts/store-contract.ts) run against every store.
// What only the SQLite file can show is in sqlite-store.test.ts.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createMemoryStore } from '../server/store/memory-store.js';
import { openSqliteStore } from '../server/store/sqlite-store.js';
import type { Store } from '../server/store/store.js';
import { connectRedis } from '../server/redis/client.js';
import { RedisStore } from '../server/redis/redis-store.js';
import { storeContract } from './contracts/store-contract.js';
import { redisSkipReason, sharedRedis, uniquePrefix } from './helpers/redis.js';

function closedAfter(t: TestContext, store: Store): Store {
  t.after(() => store.close());
  return store;
}

async function sqliteInTempDir(t: TestContext, logSize: number): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), 'jobcast-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return closedAfter(t, await openSqliteStore(join(dir, 'jobs.db'), { logSize }));
}

/** A Redis store as one process sees it: its own connection, on keys no other test uses. */
async function redisStore(t: TestContext, logSize: number, prefix = uniquePrefix()): Promise<Store> {
  const client = await connectRedis((await sharedRedis()).url, { name: 'jobcast-test' });
  return closedAfter(t, new RedisStore(client, { logSize, prefix, feedLength: 1000 }));
}

storeContract('memory', async (t, logSize) => closedAfter(t, createMemoryStore({ logSize })));
storeContract('sqlite', sqliteInTempDir);
const redisSkip = redisSkipReason();
if (redisSkip === null) {
  storeContract('redis', redisStore, async (t, logSize) => {
    const prefix = uniquePrefix();
    return [await redisStore(t, logSize, prefix), await redisStore(t, logSize, prefix)];
  });
} else {
  test('redis store contract', { skip: redisSkip }, () => undefined);
}
