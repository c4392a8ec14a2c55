// Cancel from any process (SPEC 6): a queued job leaves the one queue; a running job's
// processor is aborted at once in the process that runs it; a job whose owner is stopped
// is cancelled for good: its claim goes with the cancel, nothing takes it over, and the
// owner, woken, stops its processor and appends nothing.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { connectRedis } from '../server/redis/client.js';
import { startCluster } from './helpers/cluster.js';
import { createJob, getJob } from './helpers/http.js';
import { probeRecords, type ProbeRecord } from './helpers/probe.js';
import { redisSkipReason } from './helpers/redis.js';
import { HANG_MS } from './helpers/patience.js';
import { connectWs, eventLog, waitFor } from './helpers/ws-client.js';

const SKIP = redisSkipReason() ?? false;
const LEASE_MS = 1000;

/** Resolves with the first record matching `matches`, polling the shared record file. */
async function recordOf(path: string, matches: (r: ProbeRecord) => boolean, what: string): Promise<ProbeRecord> {
  for (const deadline = Date.now() + HANG_MS; ; await delay(10)) {
    const found = (await probeRecords(path)).find(matches);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no record of ${what} within ${HANG_MS / 1000} s`);
  }
}

async function cancel(url: string, id: string): Promise<{ status: number; body: { status?: string } }> {
  const res = await fetch(`${url}/jobs/${id}/cancel`, { method: 'POST' });
  return { status: res.status, body: (await res.json()) as { status?: string } };
}

test('cancel from another process: while queued, while running, and while the owner is stopped', { skip: SKIP }, async (t) => {
  const cluster = await startCluster(t, { servers: 2, workers: 1, lease: `${LEASE_MS}ms` });
  const [entry, other] = cluster.servers as [typeof cluster.servers[0], typeof cluster.servers[0]];
  const worker = cluster.workers[0]!;
  const record = join(cluster.dir, 'record.txt');
  const held = { processor: 'probe', options: JSON.stringify({ release: join(cluster.dir, 'release'), record }) };
  const dashboard = await connectWs(t, other.url);
  assert.equal((await dashboard.subscribe('*')).type, 'subscribed');
  const upload = async () => (await createJob(entry.url, [{ name: 'x', content: 'x' }], held)).id;

  // Three held jobs keep the three processes busy (--concurrency 1 each).
  const busy = [await upload(), await upload(), await upload()];
  await waitFor(() => busy.every((id) => dashboard.tracker.view(id).snapshot?.status === 'running'), 'three running jobs');

  // While queued: it leaves the queue, seen the same from every process, and never starts.
  const queued = await upload();
  assert.equal((await getJob(other.url, queued)).queuePosition, 1);
  const whileQueued = await cancel(other.url, queued);
  assert.deepEqual([whileQueued.status, whileQueued.body.status], [200, 'cancelled']);
  assert.equal((await getJob(entry.url, queued)).status, 'cancelled');
  assert.equal(((await (await fetch(`${entry.url}/queue`)).json()) as { queued: number }).queued, 0);

  // While running on the worker: its processor is aborted there at once (nothing releases it otherwise).
  const onWorker = await recordOf(record, (r) => r.what === 'start' && r.pid === worker.pid, 'a file on the worker');
  const whileRunning = await cancel(other.url, onWorker.job);
  assert.deepEqual([whileRunning.status, whileRunning.body.status], [200, 'cancelled']);
  await recordOf(record, (r) => r.what === 'abort' && r.job === onWorker.job && r.pid === worker.pid, 'the abort on the worker');

  // The worker takes the next job; stopped, its job is cancelled from elsewhere for good.
  const next = await upload();
  const onStopped = await recordOf(record, (r) => r.what === 'start' && r.job === next && r.pid === worker.pid, 'the next job on the worker');
  worker.signal('SIGSTOP');
  const whileStopped = await cancel(other.url, next);
  assert.deepEqual([whileStopped.status, whileStopped.body.status], [200, 'cancelled']);
  const redis = await connectRedis(cluster.redis.url, { name: 'test' });
  t.after(() => redis.redis.quit());
  assert.equal(await redis.redis.zscore(`${cluster.prefix}queue:active`, next), null, 'the cancel took the claim with it');
  // Past the moment its lease would have run out, and a check after that: nothing took it over.
  const expiresBy = Number((await redis.redis.time())[0]) * 1000 + LEASE_MS * 1.2;
  for (;;) {
    const [s, us] = await redis.redis.time();
    if (Number(s) * 1000 + Number(us) / 1000 > expiresBy + 500) break;
    await delay(50);
  }
  const logWhileStopped = await eventLog(t, other.url, next);
  assert.equal(logWhileStopped.at(-1)!.name, 'job.cancelled');
  assert.ok(!logWhileStopped.some((e) => e.name === 'job.requeued'), 'no takeover');
  worker.signal('SIGCONT');
  await recordOf(record, (r) => r.what === 'abort' && r.job === next && r.pid === worker.pid && r.token === onStopped.token, 'the woken owner stopping its processor');
  // The worker's run is over: it takes the next job, and the cancelled one got nothing more.
  const after = await upload();
  await recordOf(record, (r) => r.what === 'start' && r.job === after && r.pid === worker.pid, 'a new job on the worker');
  assert.deepEqual(await eventLog(t, other.url, next), logWhileStopped, 'the woken owner appended nothing');
  assert.ok(!(await probeRecords(record)).some((r) => r.job === next && r.pid !== worker.pid), 'no other process ran it');

  await writeFile(join(cluster.dir, 'release'), '');
  await waitFor(() => [...busy, after].every((id) => dashboard.tracker.view(id).isFinal), 'the held jobs to end', HANG_MS);
  assert.ok(!(await probeRecords(record)).some((r) => r.job === queued), 'the job cancelled while queued never started');
});
