// The Feed contract (test/contracts/feed-contract.ts) run against every feed.

import { test, type TestContext } from 'node:test';
import { LocalFeed } from '../server/feed/local-feed.js';
import { JobLog } from '../server/jobs/job-log.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { createLogger } from '../server/logger.js';
import { openRedisBackend } from '../server/redis/redis-backend.js';
import { feedContract, type FeedRig } from './contracts/feed-contract.js';
import { redisSkipReason, sharedRedis, uniquePrefix } from './helpers/redis.js';

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

/**
 * Three processes on one Redis. loseEntries stops a process's reader, lets `during` append,
 * then really trims the stream to nothing, as a reader that fell too far behind would find it.
 */
async function onRedis(t: TestContext): Promise<FeedRig> {
  const { url } = await sharedRedis();
  const prefix = uniquePrefix('feed');
  const backends = await Promise.all([0, 1, 2].map(() => openRedisBackend(url, { logSize: 100, prefix, logger: createLogger('silent') })));
  t.after(() => Promise.all(backends.map((b) => b.close())));
  return {
    store: backends[0]!.store,
    processes: backends.map((b) => ({ feed: b.feed, log: new JobLog(b.store, b.feed) })),
    async loseEntries(index, during) {
      const resume = await backends[index]!.feed.pauseReading();
      await during();
      await backends[0]!.client.redis.xtrim(`${prefix}feed`, 'MAXLEN', 0);
      resume();
    },
  };
}

const redisSkip = redisSkipReason();
if (redisSkip === null) feedContract('redis', onRedis);
else test('redis feed contract', { skip: redisSkip }, () => undefined);
