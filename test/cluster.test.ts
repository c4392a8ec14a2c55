// Several processes on one Redis (SPEC 6), through their public surface only: three
// servers and two workers, uploads to one server, subscribers on the others.
// Real processes, a real redis-server with append-only persistence, real sockets.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyEvent } from '../server/protocol/reducer.js';
import type { JobEvent, Snapshot } from '../server/protocol/types.js';
import { assertConverged, startCluster } from './helpers/cluster.js';
import { createJob, getJob } from './helpers/http.js';
import { probeRecords } from './helpers/probe.js';
import { redisSkipReason } from './helpers/redis.js';
import { HANG_MS } from './helpers/patience.js';
import { SseReader } from './helpers/sse-client.js';
import { connectWs, eventLog, waitFor, type WsClient } from './helpers/ws-client.js';

const SKIP = redisSkipReason() ?? false;

const files = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `part-${i}.bin`, content: `content of part ${i}` }));

test('three servers and two workers: uploads to one, subscribers on the others converge, logs are gapless, positions are cluster-wide', { skip: SKIP }, async (t) => {
  const cluster = await startCluster(t, { servers: 3, workers: 2 });
  const [entry, ...others] = cluster.servers as [typeof cluster.servers[0], ...typeof cluster.servers];
  const record = join(cluster.dir, 'record.txt');
  // `*` on each other server from the start; one client per other server subscribes to jobs by id.
  const dashboards = await Promise.all(others.map((s) => connectWs(t, s.url)));
  for (const d of dashboards) assert.equal((await d.subscribe('*')).type, 'subscribed');
  const followers = await Promise.all(others.map((s) => connectWs(t, s.url)));

  // More jobs than the five processes run at once (--concurrency 1 each), so some wait and move up.
  const ids: string[] = [];
  const followed = followers.map(() => new Set<string>());
  const follow = async (i: number, id: string): Promise<void> => {
    const which = Math.floor(i / 2) % 2;
    followed[which]!.add(id);
    assert.equal((await followers[which]!.subscribe(id)).type, 'subscribed');
  };
  for (let i = 0; i < 12; i++) {
    const snapshot = await createJob(entry.url, files(2), { processor: 'probe', options: JSON.stringify({ ms: 120, record }) });
    ids.push(snapshot.id);
    // Every other job is followed from its upload on; the rest once they may be mid-run.
    if (i % 2 === 0) await follow(i, snapshot.id);
  }
  for (const [i, id] of ids.entries()) if (i % 2 === 1) await follow(i, id);

  const isFinal = (client: WsClient, id: string) => client.tracker.view(id).isFinal;
  await waitFor(() => ids.every((id) => dashboards.every((d) => isFinal(d, id))), 'every dashboard to see every job end', HANG_MS);
  await waitFor(() => followers.every((f, i) => [...followed[i]!].every((id) => isFinal(f, id))), 'the followers to see their jobs end', HANG_MS);

  const finals = new Map<string, Snapshot>();
  for (const id of ids) {
    const final = await getJob(others[1]!.url, id);
    assert.equal(final.status, 'completed', `${id} completed`);
    finals.set(id, final);
  }
  dashboards.forEach((d, i) => assertConverged(d, finals, `dashboard on server ${i + 2}`));
  followers.forEach((f, i) => assertConverged(f, new Map([...finals].filter(([id]) => followed[i]!.has(id))), `follower on server ${i + 2}`));

  // Every log is gapless, as each server reads it back.
  for (const [i, id] of ids.entries()) {
    const events = await eventLog(t, cluster.servers[i % 3]!.url, id);
    assert.deepEqual(events.map((e) => e.seq), Array.from({ length: finals.get(id)!.seq }, (_, k) => k + 1), `${id}: seqs 1..n`);
  }

  // The work was spread over processes, and each file ran once.
  const records = await probeRecords(record);
  const done = records.filter((r) => r.what === 'done');
  assert.equal(done.length, ids.length * 2, 'each file ran to its end once');
  assert.ok(new Set(done.map((r) => r.pid)).size >= 2, `files ran in several processes: ${[...new Set(done.map((r) => r.pid))].join(', ')}`);

  // Position messages come from the cluster's one queue: a waiting job only ever moves up.
  const last = ids[ids.length - 1]!;
  for (const d of dashboards) {
    const positions = d.tracker.view(last).positions;
    for (let i = 1; i < positions.length; i++) assert.ok(positions[i]! <= positions[i - 1]!, `positions of the last job never go back: ${positions.join(', ')}`);
  }
});

test('a server started mid-job serves it live from where it joins (WebSocket and SSE); a worker stopped with SIGTERM hands its job on', { skip: SKIP }, async (t) => {
  const cluster = await startCluster(t, { servers: 1, workers: 1 });
  const record = join(cluster.dir, 'record.txt');
  const release = join(cluster.dir, 'release');
  const held = { processor: 'probe', options: JSON.stringify({ release, record }) };
  const first = cluster.servers[0]!;
  const worker = cluster.workers[0]!;
  const jobs = [
    await createJob(first.url, [{ name: 'a', content: 'a' }, { name: 'b', content: 'b' }], held),
    await createJob(first.url, [{ name: 'c', content: 'c' }, { name: 'd', content: 'd' }], held),
  ];
  let onWorker: string | undefined;
  for (const deadline = Date.now() + HANG_MS; onWorker === undefined; await new Promise((r) => setTimeout(r, 10))) {
    onWorker = (await probeRecords(record)).find((r) => r.what === 'start' && r.pid === worker.pid)?.job;
    if (Date.now() > deadline) throw new Error('the worker started no file');
  }

  // A second server joins while both jobs run.
  const late = await cluster.addServer();
  const dashboard = await connectWs(t, late.url);
  assert.equal((await dashboard.subscribe('*')).type, 'subscribed');
  const sse = new SseReader(await fetch(`${late.url}/jobs/${onWorker}/events`));
  const opening = (await sse.next())!;
  assert.equal(opening.event, 'snapshot');

  // SIGTERM: the held file cannot finish within --shutdown-grace, so the job goes back to
  // the queue (reason shutdown) and the new server, the only free process, takes it.
  assert.equal(await worker.kill('SIGTERM'), 0, 'the worker stops cleanly');
  await waitFor(() => dashboard.tracker.view(onWorker).snapshot?.status === 'running' && (dashboard.tracker.view(onWorker).snapshot?.startedAt ?? 0) > 0 && dashboard.received.some((m) => m.type === 'event' && m.job === onWorker && m.name === 'job.requeued'), 'the requeue', HANG_MS);
  await writeFile(release, '');
  await waitFor(() => jobs.every((j) => dashboard.tracker.view(j.id).isFinal), 'both jobs to end', HANG_MS);

  const finals = new Map<string, Snapshot>();
  for (const j of jobs) finals.set(j.id, await getJob(late.url, j.id));
  assertConverged(dashboard, finals, 'the late server\'s dashboard');
  const log = await eventLog(t, first.url, onWorker);
  // One requeue: the stopping worker's (shutdown), or, when the free server claimed the job
  // between its put back and that append, the new owner's (takeover, which fenced the other off).
  const tookOver = cluster.all.filter((p) => p.logs.some((l) => l.msg === 'took over a job whose owner stopped renewing its claim' && l.job === onWorker));
  assert.deepEqual(tookOver.map((p) => p.pid), [], 'the stopping worker renewed its claim through the grace: no lease ran out');
  const reasons = log.filter((e) => e.name === 'job.requeued').map((e) => e.data.reason);
  assert.ok(reasons.length === 1 && ['shutdown', 'takeover'].includes(reasons[0]!), `one requeue: ${reasons.join(', ')}`);
  // SSE: the stream ends after the final event, and folding it gives the final snapshot.
  const messages = [opening, ...(await sse.rest(HANG_MS))];
  let view: Snapshot | null = null;
  let last = 0;
  for (const m of messages) {
    const data = JSON.parse(m.data) as { type: 'snapshot'; job: Snapshot } | JobEvent | { type: 'position' };
    if (data.type === 'snapshot') view = data.job;
    else if (data.type === 'event') {
      assert.equal(data.seq, last + 1, 'SSE events follow on without a gap');
      view = applyEvent(view, data);
    } else continue;
    last = view!.seq;
  }
  assert.deepEqual(view, finals.get(onWorker));
  assert.ok((await probeRecords(record)).some((r) => r.what === 'done' && r.job === onWorker && r.pid === late.pid), 'the new server finished it');
});
