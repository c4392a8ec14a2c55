// The Feed contract (test/contracts/feed-contract.ts) run against every feed.

import type { TestContext } from 'node:test';
import { LocalFeed } from '../server/feed/local-feed.js';
import { JobLog } from '../server/jobs/job-log.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { feedContract, type FeedRig } from './contracts/feed-contract.js';

async function inProcess(t: TestContext): Promise<FeedRig> {
  const store = createMemoryStore({ logSize: 100 });
  const feed = new LocalFeed();
  t.after(async () => {
    await feed.close();
    await store.close();
  });
  return { store, processes: [{ feed, log: new JobLog(store, feed) }] };
}

feedContract('in-process', inProcess);
