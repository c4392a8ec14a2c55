// The Store contract (test/contracts/store-contract.ts) run against every store.
// What only the SQLite file can show is in sqlite-store.test.ts.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createMemoryStore } from '../server/store/memory-store.js';
import { openSqliteStore } from '../server/store/sqlite-store.js';
import type { Store } from '../server/store/store.js';
import { storeContract } from './contracts/store-contract.js';

function closedAfter(t: TestContext, store: Store): Store {
  t.after(() => store.close());
  return store;
}

async function sqliteInTempDir(t: TestContext, logSize: number): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), 'jobcast-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return closedAfter(t, await openSqliteStore(join(dir, 'jobs.db'), { logSize }));
}

storeContract('memory', async (t, logSize) => closedAfter(t, createMemoryStore({ logSize })));
storeContract('sqlite', sqliteInTempDir);
