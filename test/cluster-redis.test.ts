// The Redis under several processes (SPEC 6): restarted mid-job (append-only file,
// fsync always), every process answers 503 not_ready and fails /readyz while it is
// away, reconnects by itself, reuses no seq, and the jobs finish; an evicting Redis is
// refused at start; one without persistence is accepted with a warning.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { JobEvent, Snapshot } from '../server/protocol/types.js';
import { assertConverged, spawnJobcast, startCluster } from './helpers/cluster.js';
import { createJob, errorCode, getJob, uploadFiles } from './helpers/http.js';
import { probeRecords } from './helpers/probe.js';
import { redisSkipReason, startRedis, uniquePrefix } from './helpers/redis.js';
import { REPO_ROOT, tempDir } from './helpers/server.js';
import { HANG_MS } from './helpers/patience.js';
import { connectWs, eventLog, waitFor } from './helpers/ws-client.js';

const SKIP = redisSkipReason() ?? false;

/** Resolves once GET `url` answers `status`, asking every 50 ms; rejects after `timeoutMs`. */
async function untilStatus(url: string, status: number, timeoutMs = HANG_MS): Promise<Response> {
  for (const deadline = Date.now() + timeoutMs; ; await delay(50)) {
    const res = await fetch(url).catch(() => null);
    if (res?.status === status) return res;
    await res?.body?.cancel();
    if (Date.now() > deadline) throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${res?.status})`);
  }
}

test('Redis killed and restarted mid-job: 503 not_ready and /readyz failing meanwhile, every process recovers, no seq is reused, the jobs finish', { skip: SKIP }, async (t) => {
  const cluster = await startCluster(t, { servers: 2, workers: 1 });
  const [entry, other] = cluster.servers as [typeof cluster.servers[0], typeof cluster.servers[0]];
  const record = join(cluster.dir, 'record.txt');
  const dashboard = await connectWs(t, other.url);
  assert.equal((await dashboard.subscribe('*')).type, 'subscribed');
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const files = [0, 1, 2].map((f) => ({ name: `f${f}`, content: `job ${i} file ${f}` }));
    ids.push((await createJob(entry.url, files, { processor: 'probe', options: JSON.stringify({ ms: 300, record }) })).id);
  }
  // Mid-job: some files done, others running.
  await waitFor(() => dashboard.received.some((m) => m.type === 'event' && m.name === 'file.completed'), 'a completed file', HANG_MS);

  await cluster.redis.kill('SIGKILL');
  for (const p of cluster.all) assert.equal((await untilStatus(`${p.url}/readyz`, 503)).status, 503, `${p.role} ${p.pid}: /readyz fails`);
  const refused = await uploadFiles(entry.url, [{ name: 'late', content: 'late' }]);
  assert.deepEqual([refused.status, await errorCode(refused), refused.headers.has('retry-after')], [503, 'not_ready', true]);
  const cancel = await fetch(`${other.url}/jobs/${ids[3]}/cancel`, { method: 'POST' });
  assert.deepEqual([cancel.status, await errorCode(cancel)], [503, 'not_ready'], 'a write answers 503 not_ready');
  for (const p of cluster.all) assert.equal((await fetch(`${p.url}/healthz`)).status, 200, `${p.role} ${p.pid} lives on`);

  await cluster.redis.start();
  for (const p of cluster.all) await untilStatus(`${p.url}/readyz`, 200);
  await waitFor(() => ids.every((id) => dashboard.tracker.view(id).isFinal), 'every job to end after the restart', HANG_MS);
  const after = await createJob(entry.url, [{ name: 'after', content: 'after' }]);
  await waitFor(() => dashboard.tracker.view(after.id).isFinal, 'a job uploaded after the restart to end', HANG_MS);

  const finals = new Map<string, Snapshot>();
  for (const id of [...ids, after.id]) {
    const final = await getJob(entry.url, id);
    assert.equal(final.status, 'completed', `${id} completed`);
    finals.set(id, final);
    const log = await eventLog(t, other.url, id);
    assert.deepEqual(log.map((e) => e.seq), Array.from({ length: final.seq }, (_, i) => i + 1), `${id}: gapless`);
    // No seq was reused: every event a subscriber saw live is the one the log holds at that seq.
    const live = dashboard.received.filter((m): m is JobEvent => m.type === 'event' && m.job === id);
    for (const event of live) assert.deepEqual(event, log[event.seq - 1], `${id}: the live event at seq ${event.seq} is the stored one`);
  }
  assertConverged(dashboard, finals, 'the dashboard');
  const done = (await probeRecords(record)).filter((r) => r.what === 'done');
  for (const id of ids) for (const index of [0, 1, 2]) assert.ok(done.some((r) => r.job === id && r.index === index), `${id} file ${index} ran to its end`);
});

test('SIGTERM while Redis is away: a server and a worker still stop, with exit code 0', { skip: SKIP }, async (t) => {
  const cluster = await startCluster(t, { servers: 1, workers: 1 });
  await cluster.redis.kill('SIGKILL');
  for (const p of cluster.all) await untilStatus(`${p.url}/readyz`, 503);
  // No bound on how long: the failure this catches is a process that never exits.
  for (const p of cluster.all) assert.equal(await p.kill('SIGTERM'), 0, `${p.role} ${p.pid} stopped`);
});

/** Runs `node dist/server/main.js ARGS --port 0`; resolves with its exit code and output once it exits. */
function runToExit(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/server/main.js'), ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr, stdout })));
}

test('a Redis that may evict keys is refused at start (exit 2); one without persistence is used with a warning', { skip: SKIP }, async (t) => {
  const dir = await tempDir(t);
  const evicting = await startRedis(t, { maxmemoryPolicy: 'allkeys-lru' });
  for (const role of [[], ['worker']]) {
    const refused = await runToExit([...role, '--store', evicting.url, '--spool-dir', join(dir, 'spool')]);
    assert.equal(refused.code, 2, `${role.join('') || 'serve'}: exit code 2`);
    assert.match(refused.stderr, /maxmemory-policy 'allkeys-lru'.*noeviction/);
  }
  const worker = await runToExit(['worker', '--store', 'memory']);
  assert.deepEqual([worker.code, /redis:\/\//.test(worker.stderr)], [2, true], 'a worker needs a shared store');
  const unreachable = await runToExit(['--store', `redis://127.0.0.1:${evicting.port + 1}`, '--spool-dir', join(dir, 'spool')]);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1/);

  const volatile = await startRedis(t, { appendonly: false });
  const server = await spawnJobcast(t, 'serve', ['--store', volatile.url, '--redis-prefix', uniquePrefix(), '--spool-dir', join(dir, 'spool')]);
  const warning = await server.waitForLog((l) => l.level === 40 && /append-only persistence is off/.test(l.msg), 'the persistence warning');
  assert.match(warning.msg, /appendonly yes/);
});
