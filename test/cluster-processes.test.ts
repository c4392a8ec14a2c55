// Which process runs each job (SPEC 6 with `GET /queue`'s `processes`), over real
// processes on a real Redis: two servers and a worker list one another with their roles,
// and each running job under the process the probe processor says ran it; a process
// stopped with SIGTERM leaves the list as it exits, one killed with SIGKILL when its
// heartbeat expires (one --lease after its last), and not before.

import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import type { ProcessInfo, QueueStats } from '../server/protocol/types.js';
import { until } from './contracts/events.js';
import { startCluster, type JobcastProcess } from './helpers/cluster.js';
import { createJob } from './helpers/http.js';
import { HANG_MS } from './helpers/patience.js';
import { probeRecords } from './helpers/probe.js';
import { redisSkipReason } from './helpers/redis.js';

const SKIP = redisSkipReason() ?? false;
/** The cluster's --lease: how long a heartbeat lasts. */
const LEASE_MS = 1000;
/** Redis's TIME and Date.now() read one clock in whole milliseconds. */
const ROUNDING_MS = 2;

async function processesOf(server: JobcastProcess): Promise<ProcessInfo[]> {
  const res = await fetch(`${server.url}/queue`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as QueueStats;
  assert.ok(Array.isArray(body.processes), 'GET /queue lists the processes');
  return body.processes;
}

test('two servers and a worker: each lists all three with their roles and the jobs each runs; SIGTERM leaves at once, SIGKILL at the expiry', { skip: SKIP }, async (t) => {
  const cluster = await startCluster(t, { servers: 2, workers: 1, lease: `${LEASE_MS}ms` });
  const [first, second] = cluster.servers as [JobcastProcess, JobcastProcess];
  const worker = cluster.workers[0]!;
  const record = join(cluster.dir, 'record.txt');
  const release = join(cluster.dir, 'release-probe');

  // One job per process (--concurrency 1 each), held running until released.
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const job = await createJob(first.url, [{ name: `held-${i}.bin`, content: `held ${i}` }], { processor: 'probe', options: JSON.stringify({ record, release }) });
    ids.push(job.id);
  }
  await until(async () => (await probeRecords(record)).filter((r) => r.what === 'start').length === 3, 'the three jobs to start', HANG_MS);
  const ranIn = new Map((await probeRecords(record)).map((r) => [r.job, r.pid]));

  let listed: ProcessInfo[] = [];
  await until(
    async () => {
      listed = await processesOf(second);
      return listed.length === 3 && listed.every((p) => p.jobs.length === 1 && p.workersBusy === 1);
    },
    'each process to report its running job',
    HANG_MS,
  );
  const expected = cluster.all.map((p) => [p.role === 'serve' ? 'server' : 'worker', p.pid]).sort();
  assert.deepEqual(listed.map((p) => [p.role, p.pid]).sort(), expected, 'two servers and a worker, by pid');
  for (const p of listed) {
    assert.equal(p.host, hostname());
    assert.match(p.id, new RegExp(`^${hostname()}:${p.pid}:${p.role}:[0-9a-f]{8}$`));
    assert.deepEqual([p.workers, p.concurrency], [2, 1], 'the --workers and --concurrency of each');
    assert.equal(ranIn.get(p.jobs[0]!), p.pid, `${p.jobs[0]} is listed under the process that runs it`);
  }
  assert.deepEqual(listed.flatMap((p) => p.jobs).sort(), [...ids].sort(), 'every running job once');
  // Every server answers the same list (their times differ by when each answered).
  const strip = (list: ProcessInfo[]) => list.map(({ lastHeartbeatAt: _, ...rest }) => rest);
  assert.deepEqual(strip(await processesOf(first)), strip(listed));

  // SIGTERM: the grace lets the held file go on, so release it; the process leaves the list before it exits.
  await writeFile(release, '');
  assert.equal(await second.kill('SIGTERM'), 0);
  assert.ok(!(await processesOf(first)).some((p) => p.pid === second.pid), 'a clean stop removed its heartbeat');

  // SIGKILL: listed until its last heartbeat expires, one lease after it was sent.
  let lastHeartbeatAt = listed.find((p) => p.pid === worker.pid)!.lastHeartbeatAt;
  await worker.kill('SIGKILL');
  let goneAt = 0;
  await until(
    async () => {
      const seen = (await processesOf(first)).find((p) => p.pid === worker.pid);
      if (seen !== undefined) lastHeartbeatAt = Math.max(lastHeartbeatAt, seen.lastHeartbeatAt);
      goneAt = Date.now();
      return seen === undefined;
    },
    'the killed worker to leave the list',
    HANG_MS,
  );
  assert.ok(goneAt >= lastHeartbeatAt + LEASE_MS - ROUNDING_MS, `gone ${goneAt - lastHeartbeatAt} ms after its last heartbeat: not before the expiry`);
  assert.deepEqual((await processesOf(first)).map((p) => p.pid), [first.pid]);
});
