// The client SDK against a real server (SPEC 3.3, 7): its view converges to the
// server's snapshot when watching, through `*`, across a dropped socket and across a
// server restart; over real sockets with the `ws` package's WebSocket.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { WatchInfo } from '../client/jobcast-client.js';
import type { ErrorInfo, Snapshot } from '../server/protocol/types.js';
import { isFinalStatus } from '../server/protocol/types.js';
import { createJob, getJob, pollJob, uploadFiles } from './helpers/http.js';
import { openClient, trackedWebSocket, Trace, type TrackedSockets } from './helpers/sdk-trace.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';
import { appendProgress, createSyntheticJob, finishSyntheticJob, yieldToIo } from './helpers/synthetic-job.js';
import { waitFor } from './helpers/ws-client.js';
import { TEST_HANG_MS } from './helpers/patience.js';

type Seen = [Snapshot | null, WatchInfo];

/** A job of `files` files that the `delay` processor takes about `msPerFile` each, with progress every ~20 ms. */
function delayJob(url: string, files: number, msPerFile: number, label = 'sdk') {
  const uploads = Array.from({ length: files }, (_, i) => ({ name: `f${i}.bin`, content: new Uint8Array(4096 * (i + 1)) }));
  return createJob(url, uploads, { processor: 'delay', options: JSON.stringify({ minMs: msPerFile }), label });
}

const isFinal = ([snapshot]: Seen) => snapshot !== null && isFinalStatus(snapshot.status);

/** Seqs of the events the SDK reported folding: strictly increasing means none was applied twice or out of order. */
function assertEachEventAppliedOnce(seen: Seen[]): void {
  const seqs = seen.flatMap(([, info]) => (info.event === undefined ? [] : [info.event.seq]));
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `event seq ${seqs[i]} applied after ${seqs[i - 1]}`);
  const snapshotSeqs = seen.flatMap(([s]) => (s === null ? [] : [s.seq]));
  for (let i = 1; i < snapshotSeqs.length; i++) assert.ok(snapshotSeqs[i]! >= snapshotSeqs[i - 1]!, 'the view never goes back');
}

/** Every event the server sent for `job` over all the client's sockets: none twice. */
function assertNoEventSentTwice(tracked: TrackedSockets, job: string): void {
  const seqs = tracked.frames.flatMap(({ message }) => (message.type === 'event' && message.job === job ? [message.seq] : []));
  assert.equal(new Set(seqs).size, seqs.length, `events sent twice: ${seqs.join(',')}`);
}

test('watch() converges to exactly the final GET /jobs/{id} of a multi-file job, queue positions included', async (t) => {
  const server = await startTestServer(t, { concurrency: 1, processorDir: FIXTURE_PROCESSORS });
  // Two jobs ahead: the watched one waits at position 2 until the test cancels the first, then at 1, then runs.
  // `gated` holds a file at half until the test writes `release`: the first job until its cancel, the
  // watched one mid-file until the client has folded that progress.
  const first = await createJob(server.url, [{ name: 'first.bin', content: 'x' }], { processor: 'gated', label: 'first' });
  await delayJob(server.url, 1, 250, 'second');
  const job = await createJob(server.url, [1, 2, 3].map((i) => ({ name: `f${i}.bin`, content: new Uint8Array(4096 * i) })), { processor: 'gated', label: 'watched' });
  assert.equal(job.queuePosition, 2);

  const { client, states } = openClient(t, { url: server.url });
  assert.equal(client.connectionState, 'connecting');
  const seen = new Trace<Seen>();
  client.watch(job.id, (snapshot, info) => seen.push([snapshot, info]));
  await seen.until('the subscription to be acknowledged', ([, info]) => info.mode !== null);
  assert.equal((await fetch(`${server.url}/jobs/${first.id}/cancel`, { method: 'POST' })).status, 200);
  await seen.until('the first file held at half', ([s, info]) => info.event?.name === 'file.progress' && s!.files[0]!.fraction === 0.5);
  await writeFile(join(server.dir, 'release'), '');
  await seen.until('the job to end', isFinal);
  const final = await getJob(server.url, job.id);
  assert.deepEqual(seen.last![0], final);
  assert.equal(final.status, 'completed');

  assert.deepEqual(seen.values[0]![0]!.queuePosition, 2, 'the first view is the snapshot, at position 2');
  const positions = seen.values.map(([s]) => s!.queuePosition).filter((p, i, all) => p !== all[i - 1]);
  assert.deepEqual(positions, [2, 1, null], 'position messages moved the queued job up, job.started cleared it');
  assert.ok(seen.values.some(([, info]) => info.mode === 'snapshot'), 'the subscription was acknowledged in snapshot mode');
  assert.ok(
    seen.values.some(([s, info]) => s!.status === 'running' && info.event?.name === 'file.progress' && s!.progress.fraction > 0 && s!.progress.fraction < 1),
    'live progress was folded in',
  );
  assertEachEventAppliedOnce(seen.values);
  assert.deepEqual(states.values.map(([state]) => state), ['live']);
});

test('watchAll() sees a new job appear and finish, and includes a job watched by name on the same socket', async (t) => {
  const server = await startTestServer(t);
  const { client, states } = openClient(t, { url: server.url });
  // Watched by name first: the server then leaves it out of the `*` catch-up, the SDK must not.
  const named = await delayJob(server.url, 2, 200, 'named');
  const namedSeen = new Trace<Seen>();
  client.watch(named.id, (snapshot, info) => namedSeen.push([snapshot, info]));
  await namedSeen.until('the named job to be acknowledged', ([, info]) => info.mode !== null);

  const all = new Trace<ReadonlyMap<string, Snapshot>>();
  client.watchAll(all.push);
  await all.until('the dashboard catch-up', (jobs) => jobs.has(named.id));
  await states.until('live', ([state]) => state === 'live');

  const created = await delayJob(server.url, 2, 100, 'new');
  await all.until('the new job to appear', (jobs) => jobs.has(created.id));
  const ended = await all.until('both jobs to end', (jobs) =>
    [created.id, named.id].every((id) => jobs.get(id) !== undefined && isFinalStatus(jobs.get(id)!.status)),
  );
  assert.deepEqual(ended.get(created.id), await getJob(server.url, created.id));
  assert.deepEqual(ended.get(named.id), await getJob(server.url, named.id));
  assert.deepEqual(namedSeen.last![0], ended.get(named.id));
  const firstSight = all.values.find((jobs) => jobs.has(created.id))!.get(created.id)!;
  assert.equal(firstSight.seq, 1, 'the new job appeared through its job.queued event');
  assert.ok(all.values.some((jobs) => jobs.get(created.id)?.status === 'running'), 'its progress was followed');
});

test('watchAllChanges() tells every known job once after the catch-up, then each change with its event', async (t) => {
  const server = await startTestServer(t);
  const before = await delayJob(server.url, 1, 10, 'before');
  await pollJob(server.url, before.id);
  const { client } = openClient(t, { url: server.url });
  const changes = new Trace<[string, Snapshot | null, string | undefined]>();
  client.watchAllChanges((id, snapshot, event) => changes.push([id, snapshot, event?.name]));
  await changes.until('the catch-up', ([id]) => id === before.id);
  assert.deepEqual(changes.values, [[before.id, await getJob(server.url, before.id), undefined]], 'known jobs come once, with no event');

  const created = await delayJob(server.url, 2, 100, 'new');
  const ended = await changes.until('the new job to end', ([id, s]) => id === created.id && s !== null && isFinalStatus(s.status));
  assert.deepEqual(ended[1], await getJob(server.url, created.id));
  const mine = changes.values.filter(([id]) => id === created.id);
  assert.equal(mine[0]![2], 'job.queued', 'the new job appeared through its job.queued');
  assert.ok(mine.some(([, , name]) => name === 'file.progress'), 'progress came with its event');
  const seqs = mine.map(([, s]) => s!.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'the view only moves forward');
  assert.ok(changes.values.every(([id]) => id === before.id || id === created.id));

  // A second listener added later hears of every known job at once, and unwatching both ends `*`.
  const late = new Trace<string>();
  const unwatchLate = client.watchAllChanges((id) => late.push(id));
  await late.until('both jobs', () => late.values.length === 2);
  assert.deepEqual(new Set(late.values), new Set([before.id, created.id]));
  unwatchLate();
});

test('connection state goes connecting -> live, and closed after close()', async (t) => {
  const server = await startTestServer(t);
  const tracked = trackedWebSocket();
  const { client, states } = openClient(t, { url: `${server.url.replace('http', 'ws')}/ws`, WebSocket: tracked.WebSocket });
  assert.equal(client.connectionState, 'connecting');
  await states.until('live', ([state]) => state === 'live');
  assert.deepEqual(states.values, [['live', { attempt: 0, resumed: false }]]);
  assert.equal(client.connectionState, 'live');

  const socketClosed = new Promise((resolve) => tracked.sockets[0]!.once('close', resolve));
  client.close();
  client.close();
  assert.equal(client.connectionState, 'closed');
  assert.deepEqual(states.values.map(([state]) => state), ['live', 'closed']);
  assert.equal(await socketClosed, 1000);
  assert.equal(tracked.sockets.length, 1);
  // A watch after close() does nothing and throws nothing.
  client.watch('after-close', () => assert.fail('no callback after close()'))();
});

test('the SDK reconnects by itself after the server restarts on the same port and store, and converges', async (t) => {
  // File 1 holds (`gated`) until the test releases it after the restart: the stop always finds work left.
  const a = await startTestServer(t, { concurrency: 1, processorDir: FIXTURE_PROCESSORS, shutdownGraceMs: 100 });
  const job = await createJob(a.url, [0, 1, 2, 3, 4].map((i) => ({ name: `f${i}.bin`, content: 'x' })), { processor: 'gated', options: '{"hold": [1]}' });
  const tracked = trackedWebSocket();
  const { client, states } = openClient(t, { url: a.url, WebSocket: tracked.WebSocket });
  const seen = new Trace<Seen>();
  client.watch(job.id, (snapshot, info) => seen.push([snapshot, info]));
  const all = new Trace<ReadonlyMap<string, Snapshot>>();
  client.watchAll(all.push);
  await seen.until('the first file to finish', ([s]) => s?.files[0]!.status === 'done');

  const beforeRestart = states.values.length;
  const firstClosed = new Promise<number>((resolve) => tracked.sockets[0]!.once('close', resolve));
  await a.close(); // graceful: the held file does not finish within the grace, the job is requeued, sockets close with 1001
  assert.equal(await firstClosed, 1001);
  const down = await states.until('reconnecting', ([state]) => state === 'reconnecting', { from: beforeRestart });
  assert.ok(down[1].attempt >= 1);
  assert.equal(seen.last![0]!.status, 'queued', 'job.requeued arrived before the socket closed');
  assert.equal(seen.last![1].event?.name, 'job.requeued');
  assert.equal(client.connectionState, 'reconnecting');

  await writeFile(join(a.dir, 'release'), '');
  const b = await startTestServer(t, { port: a.port, store: a.config.store, spoolDir: a.config.spoolDir, concurrency: 1, processorDir: FIXTURE_PROCESSORS });
  assert.equal(b.url, a.url);
  const live = await states.until('live again', ([state]) => state === 'live', { from: beforeRestart });
  assert.equal(live[1].resumed, true);
  assert.ok(live[1].attempt >= 1, 'live reports the attempt that worked');

  await seen.until('the job to end on server B', isFinal);
  const final = await getJob(b.url, job.id);
  assert.deepEqual(seen.last![0], final);
  assert.equal(final.status, 'completed');
  assert.deepEqual(all.last!.get(job.id), final, 'the `*` view converged as well');
  const requeuedAt = seen.values.findIndex(([, info]) => info.event?.name === 'job.requeued');
  assert.ok(seen.values.slice(requeuedAt + 1).some(([, info]) => info.mode === 'resume'), 'server B resumed the watch from its log');
  const onB = tracked.frames.filter((f) => f.socket === tracked.sockets.length - 1).map((f) => f.message);
  assert.ok(!onB.some((m) => m.type === 'snapshot'), 'no snapshot needed: the log of the shared store covers the gap');
  assertEachEventAppliedOnce(seen.values);
  assertNoEventSentTwice(tracked, job.id);
  assert.ok(tracked.sockets.length >= 2);
});

test('a dropped connection (socket cut without a close handshake) resumes with since and applies no event twice', async (t) => {
  const server = await startTestServer(t);
  const job = await delayJob(server.url, 4, 200);
  const tracked = trackedWebSocket();
  const { client, states } = openClient(t, { url: server.url, WebSocket: tracked.WebSocket });
  const seen = new Trace<Seen>();
  client.watch(job.id, (snapshot, info) => seen.push([snapshot, info]));
  await seen.until('the second file to run', ([s]) => s?.files[1]!.status === 'running');

  const beforeDrop = states.values.length;
  const heldSeq = seen.last![0]!.seq;
  tracked.sockets[0]!.terminate();
  await states.until('reconnecting', ([state]) => state === 'reconnecting', { from: beforeDrop });
  const live = await states.until('live again', ([state]) => state === 'live', { from: beforeDrop });
  assert.equal(live[1].resumed, true);

  await seen.until('the job to end', isFinal);
  assert.deepEqual(seen.last![0], await getJob(server.url, job.id));
  // The new socket got `subscribe since` the seq held: only later events, then `subscribed` in resume mode.
  const second = tracked.frames.filter((f) => f.socket === 1).map((f) => f.message);
  const firstEvent = second.find((m) => m.type === 'event');
  assert.ok(firstEvent === undefined || firstEvent.seq > heldSeq);
  assert.ok(!second.some((m) => m.type === 'snapshot'), 'resumed from the log, no snapshot needed');
  assert.ok(second.some((m) => m.type === 'subscribed' && m.mode === 'resume'));
  assertEachEventAppliedOnce(seen.values);
  assertNoEventSentTwice(tracked, job.id);
});

for (const [code, slowCloseTimeoutMs] of [[1013, 3_600_000], [1006, 100]] as const) {
  const how = code === 1013 ? 'closed with 1013 (it reads the close frame)' : 'cut, since it did not read its 1013 in time (it sees 1006)';
  test(`the SDK as a slow reader, ${how}: it resumes with since and converges`, { timeout: TEST_HANG_MS }, async (t) => {
    const hubLimits = { softLimitBytes: 64 * 1024, hardLimitBytes: 512 * 1024 * 1024, maxBehindMs: 300 };
    const server = await startTestServer(t, {}, { hubLimits, slowCloseTimeoutMs });
    const id = await createSyntheticJob(server);
    const tracked = trackedWebSocket();
    // No ping of its own while the test holds its socket: only the server closes it.
    const { client, states } = openClient(t, { url: server.url, WebSocket: tracked.WebSocket, pingIntervalMs: 3_600_000 });
    const seen = new Trace<Seen>();
    client.watch(id, (snapshot, info) => seen.push([snapshot, info]));
    await states.until('live', ([state]) => state === 'live');
    const first = tracked.sockets[0]!;
    const firstClosed = new Promise<number>((resolve) => first.once('close', resolve));
    first.pause();
    let appended = 0;
    while (server.hub.stats().behind === 0) {
      assert.ok(++appended < 5000, 'the stalled SDK falls behind');
      await appendProgress(server, id, appended, 1_000_000, 16 * 1024);
      await yieldToIo();
    }
    // Closed (it leaves the behind set); for the cut, also gone from the hub: its socket closed unread.
    await waitFor(() => server.hub.stats().behind === 0 && (code === 1013 || server.hub.size === 0), 'the server to close it');
    const beforeClose = states.values.length;
    first.resume();
    assert.equal(await firstClosed, code);
    const live = await states.until('live again', ([state]) => state === 'live', { from: beforeClose });
    assert.equal(live[1].resumed, true);
    assert.deepEqual(states.values.slice(beforeClose).map(([state]) => state).slice(0, 1), ['reconnecting']);
    for (let i = 1; i <= 3; i++) await appendProgress(server, id, 900_000 + i);
    const final = await finishSyntheticJob(server, id);
    await seen.until('the job to end', isFinal);
    assert.deepEqual(seen.last![0], final);
    assertEachEventAppliedOnce(seen.values);
    const second = tracked.frames.filter((f) => f.socket === 1).map((f) => f.message);
    assert.ok(second.some((m) => m.type === 'subscribed' && m.mode === 'resume'), 'the new socket resumed from the log');
  });
}

test('an unknown job gives onState(null, {error: job_not_found}) and ends that watch; the connection still goes live', async (t) => {
  const server = await startTestServer(t);
  const { client, states } = openClient(t, { url: server.url });
  const seen = new Trace<[Snapshot | null, WatchInfo]>();
  client.watch('no-such-job-0123456789', (snapshot, info) => seen.push([snapshot, info]));
  const [snapshot, info] = await seen.until('an answer', () => true);
  assert.equal(snapshot, null);
  assert.equal((info.error as ErrorInfo).code, 'job_not_found');
  assert.equal(info.mode, null);
  await states.until('live', ([state]) => state === 'live');

  // The same client goes on serving other watches.
  const job = await delayJob(server.url, 1, 50);
  const other = new Trace<Seen>();
  client.watch(job.id, (s, i) => other.push([s, i]));
  await other.until('the job to end', isFinal);
  assert.deepEqual(other.last![0], await getJob(server.url, job.id));
  assert.equal(seen.values.length, 1, 'the ended watch heard nothing more');
  assert.throws(() => client.watch('*', () => {}), TypeError);
});

test('watchAll() needs the token when the server has one: without it onError hears unauthorized, with it the jobs arrive', async (t) => {
  const server = await startTestServer(t, { token: 's3cret' });
  const anonymous = openClient(t, { url: server.url });
  const errors = new Trace<ErrorInfo>();
  anonymous.client.watchAll(() => assert.fail('no jobs without the token'), errors.push);
  assert.equal((await errors.until('the refusal', () => true)).code, 'unauthorized');
  await anonymous.states.until('live: the refusal answers the subscription', ([state]) => state === 'live');

  const res = await uploadFiles(server.url, [{ name: 'a', content: 'x' }], {}, '', { authorization: 'Bearer s3cret' });
  assert.equal(res.status, 202);
  const job = (await res.json()) as Snapshot;
  const { client } = openClient(t, { url: server.url, token: 's3cret' });
  const all = new Trace<ReadonlyMap<string, Snapshot>>();
  client.watchAll(all.push, (error) => assert.fail(`unexpected ${error.code}`));
  const ended = await all.until('the job, ended', (jobs) => jobs.get(job.id)?.status === 'completed');
  assert.deepEqual(ended.get(job.id), await getJob(server.url, job.id));
});
