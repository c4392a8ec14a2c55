// WebSocket subscriptions (SPEC 3.3) over real sockets: a live view folds to the final
// snapshot, the `*` dashboard, queue positions, and the token rules for `*`.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Snapshot } from '../server/protocol/types.js';
import { createJob, getJob } from './helpers/http.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';
import { connectWs, jobOf, waitFor, type JobView, type Message } from './helpers/ws-client.js';
import { HANG_MS, TEST_HANG_MS } from './helpers/patience.js';

const KiB = 1024;

/** A four-file delay job of about a second, with a dozen progress events per file. */
function multiFileJob(baseUrl: string, label = 'multi'): Promise<Snapshot> {
  const files = [40, 64, 1, 90].map((k, i) => ({ name: `f${i}.bin`, content: new Uint8Array(k * KiB) }));
  return createJob(baseUrl, files, { processor: 'delay', label, options: JSON.stringify({ msPerMiB: 3000, minMs: 30 }) });
}

/** A job that runs until it is cancelled (an hour): it holds the only slot when concurrency is 1. */
function blockerJob(baseUrl: string): Promise<Snapshot> {
  return createJob(baseUrl, [{ name: 'block', content: 'x' }], { processor: 'delay', label: 'blocker', options: '{"minMs": 3600000}' });
}

async function cancel(baseUrl: string, id: string): Promise<void> {
  const res = await fetch(`${baseUrl}/jobs/${id}/cancel`, { method: 'POST' });
  assert.equal(res.status, 200, `cancel ${id}`);
  await res.body?.cancel();
}

/** Every event of the view arrived once, in order, contiguous from `from`. */
function assertContiguous(view: JobView, from: number): void {
  assert.deepEqual(view.gaps, [], 'no seq gap');
  assert.deepEqual(view.duplicates, [], 'no duplicate');
  assert.deepEqual(view.eventSeqs, Array.from({ length: view.eventSeqs.length }, (_, i) => from + i));
}

test('subscribing to a queued job before it starts: the live view folds to exactly the final snapshot', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { concurrency: 1 });
  const blocker = await blockerJob(server.url);
  const job = await multiFileJob(server.url);
  const client = await connectWs(t, server.url);

  client.send({ op: 'subscribe', job: job.id });
  const first = await client.next();
  assert.equal(first.type, 'snapshot');
  const snapshot = (first as Extract<Message, { type: 'snapshot' }>).job;
  assert.equal(snapshot.status, 'queued');
  assert.equal(snapshot.queuePosition, 1);
  assert.equal(snapshot.seq, 1);
  assert.deepEqual(await client.next(), { type: 'subscribed', job: job.id, seq: 1, mode: 'snapshot' });

  await cancel(server.url, blocker.id);
  const view = await client.untilFinal(job.id);
  const final = await getJob(server.url, job.id);
  assert.equal(final.status, 'completed');
  assert.deepEqual(view.snapshot, final);
  assertContiguous(view, 2);
  assert.equal(view.lastSeq, final.seq);
  assert.equal(view.snapshots, 1, 'one snapshot, then only events');
  const names = new Set(client.received.filter((m) => m.type === 'event').map((m) => (m as { name: string }).name));
  for (const name of ['job.started', 'file.started', 'file.progress', 'file.completed', 'job.completed']) assert.ok(names.has(name), name);
  t.diagnostic(`events delivered: ${view.eventSeqs.length} (final seq ${final.seq})`);
});

test('subscribing mid-job: snapshot of the running job, then live events, equal to the final snapshot', { timeout: TEST_HANG_MS }, async (t) => {
  // File 1 holds (`gated`) until the test releases it: the late client joins mid-job however slow the machine.
  const server = await startTestServer(t, { processorDir: FIXTURE_PROCESSORS });
  const files = [40, 64, 1, 90].map((k, i) => ({ name: `f${i}.bin`, content: new Uint8Array(k * KiB) }));
  const job = await createJob(server.url, files, { processor: 'gated', options: JSON.stringify({ hold: [1] }) });
  const early = await connectWs(t, server.url);
  assert.equal((await early.subscribe(job.id, 0)).type, 'subscribed');
  // Wait for the first file to end, so the late client joins in the middle. (On the view:
  // the event may have come in the replay, before `subscribed`.)
  await waitFor(() => early.tracker.view(job.id).snapshot?.files[0]!.status === 'done', 'file 0 to complete');

  const late = await connectWs(t, server.url);
  late.send({ op: 'subscribe', job: job.id });
  const first = (await late.nextOf('snapshot', job.id)).job;
  assert.equal(first.status, 'running');
  assert.ok(first.seq > 3 && first.files[0]!.status === 'done', `a mid-job snapshot (seq ${first.seq})`);
  const subscribed = await late.nextOf('subscribed', job.id);
  assert.equal(subscribed.mode, 'snapshot');
  assert.equal(subscribed.seq, late.lastSeqAt(subscribed), "subscribed carries the last seq delivered");
  await writeFile(join(server.dir, 'release'), '');

  const [lateView, earlyView] = [await late.untilFinal(job.id), await early.untilFinal(job.id)];
  const final = await getJob(server.url, job.id);
  assert.deepEqual(lateView.snapshot, final);
  assert.deepEqual(earlyView.snapshot, final);
  assertContiguous(lateView, first.seq + 1);
  assertContiguous(earlyView, 1);
  t.diagnostic(`late client: snapshot at seq ${first.seq}, then ${lateView.eventSeqs.length} events to seq ${final.seq}`);
});

test('"*": snapshots of active and recent jobs, subscribed without seq, then every event of new jobs and positions', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { concurrency: 1 });
  const finished = await createJob(server.url, [{ name: 'done.txt', content: 'done' }]);
  const pre = await connectWs(t, server.url);
  await pre.subscribe(finished.id);
  await pre.untilFinal(finished.id);
  const blocker = await blockerJob(server.url);
  // Long enough that each move of the queue gets its own position message (they are throttled).
  const short = { processor: 'delay', options: '{"minMs": 400}' };
  const queued: Snapshot[] = [];
  for (const label of ['q1', 'q2', 'q3']) queued.push(await createJob(server.url, [{ name: `${label}.txt`, content: label }], { ...short, label }));

  const dash = await connectWs(t, server.url);
  const watcher = await connectWs(t, server.url);
  await watcher.subscribe(queued[2]!.id);
  dash.send({ op: 'subscribe', job: '*' });
  const subscribed = await dash.nextOf('subscribed', '*');
  assert.deepEqual(subscribed, { type: 'subscribed', job: '*', mode: 'snapshot' }, 'no seq for *');
  // Live messages may already follow `subscribed` by the time this runs: look up to it only.
  const catchUp = dash.received.slice(0, dash.received.indexOf(subscribed));
  const snapshots = catchUp.filter((m) => m.type === 'snapshot').map((m) => (m as { job: Snapshot }).job);
  assert.equal(snapshots.length, catchUp.length, 'only snapshots before subscribed');
  const byId = new Map(snapshots.map((s) => [s.id, s]));
  assert.equal(byId.get(blocker.id)?.status, 'running');
  assert.deepEqual(queued.map((q) => byId.get(q.id)?.queuePosition), [1, 2, 3]);
  assert.equal(byId.get(finished.id)?.status, 'completed');
  // Active jobs come before the finished ones.
  assert.ok(snapshots.findIndex((s) => s.id === finished.id) > snapshots.findIndex((s) => s.id === queued[2]!.id));

  // A new job: its job.queued and all its events reach the dashboard.
  const fresh = await createJob(server.url, [{ name: 'new.txt', content: 'new' }], { ...short, label: 'new' });
  const queuedEvent = await dash.next((m) => m.type === 'event' && m.job === fresh.id, HANG_MS, 'job.queued of the new job');
  assert.equal(queuedEvent.type === 'event' && queuedEvent.name, 'job.queued');
  assert.equal(queuedEvent.type === 'event' && queuedEvent.seq, 1);

  // The queue moves: q1 starts, then q2, then q3; the waiting ones are told their new positions.
  await cancel(server.url, blocker.id);
  for (const job of [...queued, fresh]) await dash.untilFinal(job.id);
  for (const job of [blocker, ...queued, fresh]) {
    const final = await getJob(server.url, job.id);
    const view = dash.tracker.view(job.id);
    assert.deepEqual(view.snapshot, final, `dashboard view of ${final.label}`);
    assert.deepEqual(view.gaps, []);
    assert.deepEqual(view.duplicates, []);
  }
  const positionsOf = (id: string) => dash.received.filter((m) => m.type === 'position' && m.job === id).map((m) => (m as { position: number }).position);
  const [q2, q3, freshPositions] = [positionsOf(queued[1]!.id), positionsOf(queued[2]!.id), positionsOf(fresh.id)];
  t.diagnostic(`positions seen by "*": q2 ${JSON.stringify(q2)}, q3 ${JSON.stringify(q3)}, new ${JSON.stringify(freshPositions)}`);
  assert.deepEqual(q2, [1]);
  assert.deepEqual(q3, [2, 1]);
  assert.deepEqual(freshPositions, [3, 2, 1]);
  // A subscriber by name gets the positions of its job too.
  await watcher.untilFinal(queued[2]!.id);
  assert.deepEqual(watcher.tracker.view(queued[2]!.id).positions, [2, 1]);
  assert.deepEqual(watcher.tracker.view(queued[2]!.id).snapshot, await getJob(server.url, queued[2]!.id));
  const foreign = watcher.received.filter((m) => jobOf(m) !== undefined && jobOf(m) !== queued[2]!.id);
  assert.deepEqual(foreign, [], 'a subscriber by name hears only its job');
});

test('unsubscribing "*" stops the stream of every job', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const dash = await connectWs(t, server.url);
  assert.equal((await dash.subscribe('*')).type, 'subscribed');
  dash.send({ op: 'unsubscribe', job: '*' });
  assert.deepEqual(await dash.next(), { type: 'unsubscribed', job: '*' });
  const job = await createJob(server.url, [{ name: 'a', content: 'a' }]);
  const other = await connectWs(t, server.url);
  await other.subscribe(job.id);
  await other.untilFinal(job.id);
  await dash.roundTrip();
  assert.deepEqual(dash.received.filter((m) => jobOf(m) === job.id), []);
});

test('token rules for "*": refused without the token, served with ?token=, a wrong token closes with 1008', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { token: 'sekrit' });
  const anonymous = await connectWs(t, server.url);
  const refused = await anonymous.subscribe('*');
  assert.deepEqual([refused.type, refused.type === 'error' && refused.code, refused.job], ['error', 'unauthorized', '*']);
  // The connection stays open, and a single job (its id is the capability) may still be watched.
  await anonymous.roundTrip();
  const res = await fetch(`${server.url}/jobs`, { method: 'POST', headers: { authorization: 'Bearer sekrit' }, body: jobForm() });
  assert.equal(res.status, 202);
  const job = (await res.json()) as Snapshot;
  assert.equal((await anonymous.subscribe(job.id)).type, 'subscribed');
  await anonymous.untilFinal(job.id);

  const withQuery = await connectWs(t, server.url, { query: '?token=sekrit' });
  assert.deepEqual(await withQuery.subscribe('*'), { type: 'subscribed', job: '*', mode: 'snapshot' });
  assert.ok(withQuery.received.some((m) => m.type === 'snapshot' && m.job.id === job.id));
  const withHeader = await connectWs(t, server.url, { headers: { authorization: 'Bearer sekrit' } });
  assert.equal((await withHeader.subscribe('*')).type, 'subscribed');

  const wrong = await connectWs(t, server.url, { query: '?token=nope' });
  assert.equal((await wrong.waitClosed()).code, 1008);
  const wrongHeader = await connectWs(t, server.url, { headers: { authorization: 'Bearer nope' } });
  assert.equal((await wrongHeader.waitClosed()).code, 1008);
});

function jobForm(): FormData {
  const form = new FormData();
  form.append('file', new Blob(['token job']), 't.txt');
  return form;
}
