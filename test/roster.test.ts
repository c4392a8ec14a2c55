// The Roster contract (test/contracts/roster-contract.ts) run against every roster, what
// the Redis roster keeps in Redis, and the heartbeat that reports a process: at start,
// within a second of a change (a burst of changes costs one report), removed at a clean stop,
// and through a Redis outage (one warning, then reporting again).

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { createLogger } from '../server/logger.js';
import { openRedisBackend } from '../server/redis/redis-backend.js';
import { Heartbeat, heartbeatTimings, processIdentity } from '../server/roster/heartbeat.js';
import { LocalRoster } from '../server/roster/local-roster.js';
import type { Roster } from '../server/roster/roster.js';
import { rosterContract, type RosterRig } from './contracts/roster-contract.js';
import { redisSkipReason, sharedRedis, startRedis, uniquePrefix } from './helpers/redis.js';
import { until } from './contracts/events.js';
import { HANG_MS } from './helpers/patience.js';
import { waitFor } from './helpers/ws-client.js';

/** Waits for an asynchronous condition; the deadline only catches a hang. */
const eventually = (condition: () => Promise<boolean>, what: string): Promise<void> => until(condition, what, HANG_MS);

rosterContract('in-process', async () => ({ roster: new LocalRoster() }));

/** Two processes on one Redis (two backends, same prefix). */
async function onRedis(t: TestContext, prefix = uniquePrefix('roster')) {
  const { url } = await sharedRedis();
  const options = { logSize: 100, prefix, logger: createLogger('silent') };
  const first = await openRedisBackend(url, options);
  const second = await openRedisBackend(url, options);
  t.after(() => Promise.all([first.close(), second.close()]));
  return { first, second, prefix };
}

const redisSkip = redisSkipReason();
if (redisSkip === null) rosterContract('redis', async (t): Promise<RosterRig> => {
  const { first, second } = await onRedis(t);
  return { roster: first.roster, otherProcess: second.roster };
});
else test('redis roster contract', { skip: redisSkip }, () => undefined);

test('the Redis roster keeps each report in a key that expires, and its index holds only live ones', { skip: redisSkip ?? false }, async (t) => {
  const { first, prefix } = await onRedis(t);
  const { redis } = first.client;
  const identity = processIdentity('worker');
  const report = { ...identity, jobs: [], workersBusy: 0, workers: 2, concurrency: 1, startedAt: Date.now(), heartbeatMs: 100 };
  await first.roster.report(report, 30_000);
  const ttl = await redis.pttl(`${prefix}process:${identity.id}`);
  assert.ok(ttl > 0 && ttl <= 30_000, `the record expires (PTTL ${ttl})`);
  await first.roster.report({ ...report, id: `${identity.id}-short` }, 300);
  await eventually(async () => (await first.roster.list()).length === 1, 'the short-lived report to expire');
  assert.deepEqual(await redis.zrange(`${prefix}processes`, 0, -1), [identity.id], 'the expired id left the index');
  await first.roster.remove(identity.id);
  assert.equal(await redis.exists(`${prefix}process:${identity.id}`, `${prefix}processes`), 0, 'a removal leaves no key');
});

/** Records the reports that reach `roster`. */
function counting(roster: Roster): Roster & { reports: number } {
  const counted = {
    reports: 0,
    report: (...args: Parameters<Roster['report']>) => {
      counted.reports++;
      return roster.report(...args);
    },
    remove: (id: string) => roster.remove(id),
    list: () => roster.list(),
  };
  return counted;
}

test('a heartbeat reports at start, within a second of a burst of changes (once), and is removed at stop', async () => {
  const roster = counting(new LocalRoster());
  const identity = processIdentity('server');
  let jobs: string[] = [];
  // An interval far longer than the test: every report after the first is one a change made.
  const heartbeat = new Heartbeat({
    roster,
    describe: () => ({ ...identity, startedAt: 1, jobs, workersBusy: jobs.length, workers: 2, concurrency: 4 }),
    intervalMs: 3_600_000,
    ttlMs: 3_600_000,
    logger: createLogger('silent'),
  });
  heartbeat.start();
  await eventually(async () => (await roster.list()).length === 1, 'the first report');
  const [listed] = await roster.list();
  assert.equal(listed!.id, identity.id);
  assert.equal(listed!.heartbeatMs, 3_600_000);

  // A burst of changes between two checks: one report, long before the next heartbeat is due.
  for (let i = 0; i < 100; i++) jobs = [...jobs, `job-${i}`];
  await eventually(async () => (await roster.list())[0]?.jobs.length === 100, 'the report of the changes');
  assert.equal(roster.reports, 2, 'a hundred changes, one report');
  assert.equal((await roster.list())[0]!.workersBusy, 100);

  await heartbeat.stop();
  assert.deepEqual(await roster.list(), [], 'removed at stop');
  await heartbeat.stop();
});

test('heartbeat timings: a third of --lease, at most 5 s, kept for one --lease', () => {
  assert.deepEqual(heartbeatTimings(10_000), { intervalMs: 3333, ttlMs: 10_000 });
  assert.deepEqual(heartbeatTimings(60_000), { intervalMs: 5000, ttlMs: 60_000 });
  assert.deepEqual(heartbeatTimings(300), { intervalMs: 100, ttlMs: 300 });
});

test('a heartbeat through a Redis outage: one warning, then it reports again', { skip: redisSkip ?? false }, async (t) => {
  // Not given the test context: the hook below needs it up to close the backend, then stops it.
  const redisServer = await startRedis(null);
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  const backend = await openRedisBackend(redisServer.url, { logSize: 100, prefix: uniquePrefix('beat'), logger: createLogger('silent') });
  const identity = processIdentity('worker');
  const heartbeat = new Heartbeat({
    roster: backend.roster,
    describe: () => ({ ...identity, startedAt: 1, jobs: [], workersBusy: 0, workers: 1, concurrency: 1 }),
    intervalMs: 50,
    ttlMs: 60_000,
    logger,
  });
  t.after(async () => {
    await heartbeat.stop();
    await backend.close();
    await redisServer.kill();
  });
  heartbeat.start();
  const listed = async () => (await backend.roster.list().catch(() => [])).some((p) => p.id === identity.id);
  await eventually(listed, 'the first report');

  await redisServer.kill();
  await waitFor(() => lines.some((l) => l.msg.startsWith('could not send a heartbeat')), 'the warning');
  // Beats go on failing meanwhile (every 50 ms, each within about a second): still one warning.
  await redisServer.start();
  await waitFor(() => lines.some((l) => l.msg === 'heartbeats reach the roster again'), 'the recovery');
  assert.equal(lines.filter((l) => l.msg.startsWith('could not send a heartbeat')).length, 1, 'one warning for the outage');
  // The Redis of this test keeps nothing across a restart: the heartbeat wrote the record again.
  await eventually(listed, 'the report after the outage');
});
