// Slow readers (SPEC 3.3, 7 "slow consumers"; STYLE "three traps" #1) over real sockets:
// a stalled client costs the server a bounded buffer, never delays the others, gets a
// fresh snapshot when it reads again, and is closed with 1013 past the limits; one that
// does not read that close frame in time is cut (1006). Either way it resumes with since.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { getJob } from './helpers/http.js';
import { startTestServer } from './helpers/server.js';
import { appendProgress, createSyntheticJob, finishSyntheticJob, yieldToIo } from './helpers/synthetic-job.js';
import { checkExactlyOnce, connectWs, waitFor, type WsClient } from './helpers/ws-client.js';
import { HANG_MS, TEST_HANG_MS } from './helpers/patience.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Room for the one frame that may cross the soft limit, plus control messages. */
const FRAME_SLACK = 8 * KiB;

test('a stalled client: bounded buffer, the fast client unaffected, a fresh snapshot once it reads again', { timeout: TEST_HANG_MS }, async (t) => {
  const softLimitBytes = 256 * KiB;
  const server = await startTestServer(t, {}, { hubLimits: { softLimitBytes, hardLimitBytes: 512 * MiB, maxBehindMs: 3_600_000 } });
  const id = await createSyntheticJob(server);
  const fast = await connectWs(t, server.url);
  const slow = await connectWs(t, server.url);
  assert.equal((await fast.subscribe(id, 0)).type, 'subscribed');
  assert.equal((await slow.subscribe(id, 0)).type, 'subscribed');
  slow.ws.pause();

  // Big events until the stalled client is behind (the kernel's buffers take a few MiB first), then 200 more.
  const padBytes = 32 * KiB;
  const appendedAt = new Map<number, number>();
  let maxBufferedBytes = 0;
  let behindAtSeq: number | null = null;
  const rssBefore = process.memoryUsage().rss;
  let count = 0;
  while (behindAtSeq === null || 3 + count < behindAtSeq + 200) {
    assert.ok(++count < 3000, 'the stalled client falls behind');
    const after = await appendProgress(server, id, count, 1_000_000, padBytes);
    appendedAt.set(after.seq, Date.now());
    // The fast client gets each event before the next is appended, while the slow one reads
    // nothing: were it held up by the slow one, this would wait for ever (and fail).
    await fast.next((m) => m.type === 'event' && m.seq === after.seq, HANG_MS, `seq ${after.seq} on the fast client`);
    const stats = server.hub.stats();
    maxBufferedBytes = Math.max(maxBufferedBytes, stats.maxBufferedBytes);
    if (stats.behind > 0) behindAtSeq ??= after.seq;
  }
  const lastSeq = 3 + count;
  const rssGrowthMiB = (process.memoryUsage().rss - rssBefore) / MiB;

  // The fast client got every event, in full and in order, without waiting for the slow one.
  const fastView = fast.tracker.view(id);
  assert.equal(checkExactlyOnce(fastView.eventSeqs, lastSeq), null);
  assert.equal(fastView.snapshots, 0, 'no snapshot stood in for any of its events');
  let maxLagMs = 0;
  fast.received.forEach((m, i) => {
    if (m.type === 'event' && appendedAt.has(m.seq)) {
      assert.equal((m.data as { pad?: string }).pad?.length, padBytes, 'the whole event');
      maxLagMs = Math.max(maxLagMs, fast.receivedAt[i]! - appendedAt.get(m.seq)!);
    }
  });
  // The lag is a figure, not a bound: a busy machine stretches it, a slow reader does not.
  t.diagnostic(`fast client: ${fastView.eventSeqs.length} events, worst lag ${maxLagMs} ms after the append`);

  // The slow one fell behind and the server stopped queueing for it near the soft limit.
  t.diagnostic(`slow client behind from seq ${behindAtSeq}; most buffered ${(maxBufferedBytes / KiB).toFixed(0)} KiB (soft ${softLimitBytes / KiB} KiB); ${((count * padBytes) / MiB).toFixed(1)} MiB sent to the fast client; rss of this process (server and both clients) +${rssGrowthMiB.toFixed(1)} MiB`);
  assert.notEqual(behindAtSeq, null, 'the stalled client fell behind');
  assert.ok(maxBufferedBytes <= softLimitBytes + padBytes + FRAME_SLACK, `buffer bounded (${maxBufferedBytes} bytes)`);
  assert.equal(server.hub.stats().behind, 1);

  // Reading again: what was buffered, then one fresh snapshot in place of the missed events, then live.
  slow.ws.resume();
  const fresh = await slow.nextOf('snapshot', id);
  assert.deepEqual(fresh.job, await getJob(server.url, id));
  const slowView = slow.tracker.view(id);
  const missed = lastSeq - slowView.eventSeqs.length;
  t.diagnostic(`slow client: ${slowView.eventSeqs.length} events before the snapshot at seq ${fresh.job.seq}, ${missed} replaced by it`);
  assert.ok(missed >= 200, 'the events appended while it was behind were replaced by the snapshot');
  await waitFor(() => server.hub.stats().behind === 0, 'the slow client to be live again');
  for (let i = 1; i <= 5; i++) await appendProgress(server, id, 900_000 + i);
  const final = await finishSyntheticJob(server, id);
  await slow.untilFinal(id);
  await fast.untilFinal(id);
  assert.deepEqual(slowView.snapshot, final);
  assert.deepEqual(fastView.snapshot, final);
  assert.deepEqual(slowView.gaps, [], 'events before and after the snapshot are contiguous with it');
  assert.deepEqual(slowView.duplicates, []);
  assert.deepEqual(slowView.eventSeqs.slice(-7), [lastSeq + 1, lastSeq + 2, lastSeq + 3, lastSeq + 4, lastSeq + 5, lastSeq + 6, lastSeq + 7]);
});

test('a resume of a long log into a stalled client stops at the soft limit; the rest comes as a snapshot', { timeout: TEST_HANG_MS }, async (t) => {
  const softLimitBytes = 64 * KiB;
  const server = await startTestServer(t, {}, { hubLimits: { softLimitBytes, hardLimitBytes: 512 * MiB, maxBehindMs: 3_600_000 } });
  const id = await createSyntheticJob(server);
  const padBytes = 16 * KiB;
  for (let i = 1; i <= 300; i++) await appendProgress(server, id, i, 1_000_000, padBytes);
  const client = await connectWs(t, server.url);
  client.ws.pause();
  client.send({ op: 'subscribe', job: id, since: 0 });
  // Nearly 5 MiB of log: the catch-up must not queue all of it for a client that does not read.
  await waitFor(() => server.hub.stats().behind === 1, 'the resume to stop at the soft limit');
  const { maxBufferedBytes } = server.hub.stats();
  t.diagnostic(`buffered ${(maxBufferedBytes / KiB).toFixed(0)} KiB for a ${((300 * padBytes) / MiB).toFixed(1)} MiB log`);
  assert.ok(maxBufferedBytes <= softLimitBytes + padBytes + FRAME_SLACK, `buffer bounded (${maxBufferedBytes} bytes)`);

  client.ws.resume();
  const subscribed = await client.nextOf('subscribed', id);
  assert.equal(subscribed.mode, 'resume');
  const view = client.tracker.view(id);
  const before = client.received.slice(0, client.received.indexOf(subscribed));
  assert.deepEqual(before.map((m) => m.type === 'event' && m.seq), Array.from({ length: subscribed.seq! }, (_, i) => i + 1), 'events 1..seq, then subscribed');
  assert.equal(client.lastSeqAt(subscribed), subscribed.seq);
  assert.ok(subscribed.seq! < 303, 'the replay stopped early');
  const snapshot = await client.nextOf('snapshot', id);
  assert.equal(snapshot.job.seq, 303);
  const final = await finishSyntheticJob(server, id);
  await client.untilFinal(id);
  assert.deepEqual(view.snapshot, final);
  assert.deepEqual(view.gaps, []);
  assert.deepEqual(view.duplicates, []);
});

/** A client of job `id` that stops reading until the server has given up on it (maxBehindMs). */
async function stallUntilClosed(server: Awaited<ReturnType<typeof startTestServer>>, id: string, t: TestContext): Promise<{ slow: WsClient; appended: number }> {
  const slow = await connectWs(t, server.url);
  await slow.subscribe(id, 0);
  slow.ws.pause();
  let appended = 0;
  while (server.hub.stats().behind === 0) {
    assert.ok(++appended < 5000, 'the stalled client falls behind');
    await appendProgress(server, id, appended, 1_000_000, 16 * KiB);
    await yieldToIo();
  }
  // The server gives up on it after maxBehindMs (it leaves the behind set as it closes it).
  await waitFor(() => server.hub.stats().behind === 0, 'the server to close the stalled client');
  return { slow, appended };
}

/** A new connection resumes where `slow` stopped; after more events and the end, every seq arrived exactly once. */
async function resumeLosesNothing(server: Awaited<ReturnType<typeof startTestServer>>, id: string, slow: WsClient, t: TestContext): Promise<void> {
  const again = await connectWs(t, server.url, { tracker: slow.tracker });
  const subscribed = await again.subscribe(id, slow.tracker.view(id).lastSeq);
  assert.equal(subscribed.type === 'subscribed' && subscribed.mode, 'resume');
  for (let i = 1; i <= 3; i++) await appendProgress(server, id, 900_000 + i);
  const final = await finishSyntheticJob(server, id);
  const view = await again.untilFinal(id);
  assert.deepEqual(view.snapshot, final);
  assert.equal(checkExactlyOnce(view.eventSeqs, final.seq), null, 'every seq exactly once across both connections');
  assert.equal(view.snapshots, 0);
}

test('stalled past maxBehindMs: closed with 1013, and resuming with since loses nothing', { timeout: TEST_HANG_MS }, async (t) => {
  // The client reads its close frame whenever the test lets it: the cut must not come first.
  const server = await startTestServer(t, {}, { hubLimits: { softLimitBytes: 64 * KiB, hardLimitBytes: 512 * MiB, maxBehindMs: 300 }, slowCloseTimeoutMs: 3_600_000 });
  const id = await createSyntheticJob(server);
  const { slow, appended } = await stallUntilClosed(server, id, t);
  // The close frame waits behind the bytes already queued: reading them reaches it.
  slow.ws.resume();
  const closed = await slow.waitClosed();
  t.diagnostic(`closed with ${closed.code} after ${appended} appends; the client had seq ${slow.tracker.view(id).lastSeq}`);
  assert.equal(closed.code, 1013);
  await resumeLosesNothing(server, id, slow, t);
});

test('a stalled client that does not read its 1013 close frame is cut: it sees 1006, and resuming with since loses nothing', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, {}, { hubLimits: { softLimitBytes: 64 * KiB, hardLimitBytes: 512 * MiB, maxBehindMs: 300 }, slowCloseTimeoutMs: 100 });
  const id = await createSyntheticJob(server);
  const { slow, appended } = await stallUntilClosed(server, id, t);
  // The hub forgets a connection once its socket has closed: here, cut, since the client
  // never read the close frame (queued behind more than the soft limit, never sent).
  await waitFor(() => server.hub.size === 0, 'the server to cut the stalled client');
  slow.ws.resume();
  const closed = await slow.waitClosed();
  t.diagnostic(`cut after ${appended} appends; the client saw ${closed.code} with seq ${slow.tracker.view(id).lastSeq}`);
  assert.equal(closed.code, 1006);
  await resumeLosesNothing(server, id, slow, t);
});

test('snapshots asked for faster than they are read stop near the soft limit; behind too long, the connection gets 1013', { timeout: TEST_HANG_MS }, async (t) => {
  const softLimitBytes = 64 * KiB;
  const server = await startTestServer(t, {}, { hubLimits: { softLimitBytes, hardLimitBytes: 512 * MiB, maxBehindMs: 1000 }, slowCloseTimeoutMs: 3_600_000 });
  // Finished jobs with a 256 KiB result each: their snapshots are big, and nothing live follows.
  const ids: string[] = [];
  const resultBytes = 256 * KiB;
  for (let i = 0; i < 48; i++) {
    const id = await createSyntheticJob(server);
    await server.log.append(id, { name: 'file.completed', data: { file: 0, durationMs: 1, result: { blob: 'x'.repeat(resultBytes) }, output: false } });
    await server.log.append(id, { name: 'job.completed', data: { durationMs: 1 } });
    ids.push(id);
  }
  const client = await connectWs(t, server.url);
  client.ws.pause();
  // 12 MiB of snapshots asked for in one go: more than the kernel's buffers take on loopback.
  for (const id of ids) client.send({ op: 'subscribe', job: id });
  let maxBufferedBytes = 0;
  await waitFor(() => {
    const stats = server.hub.stats();
    maxBufferedBytes = Math.max(maxBufferedBytes, stats.maxBufferedBytes);
    return stats.behind === 1 && stats.paused === 1;
  }, 'the connection to be behind and no longer read');
  // The server stopped there: the remaining subscribes wait unread, their snapshots unread from the store.
  await waitFor(() => server.hub.stats().behind === 0, 'the server to close it once behind for maxBehindMs');
  t.diagnostic(`buffered up to ${(maxBufferedBytes / KiB).toFixed(0)} KiB (soft limit ${softLimitBytes / KiB} KiB, one snapshot ${resultBytes / KiB} KiB)`);
  assert.ok(maxBufferedBytes <= softLimitBytes + 4 * (resultBytes + FRAME_SLACK), 'no more than the reads under way past the soft limit');
  client.ws.resume();
  assert.equal((await client.waitClosed()).code, 1013);
  const snapshots = client.received.filter((m) => m.type === 'snapshot').length;
  t.diagnostic(`${snapshots} of ${ids.length} snapshots sent before the close`);
  assert.ok(snapshots < ids.length, 'the rest were never read for a client that did not read');
  await waitFor(() => server.hub.size === 0, 'the hub to forget the connection');
});

test('a stalled "*" dashboard gets one fresh snapshot per job it fell behind on, new jobs included', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, {}, { hubLimits: { softLimitBytes: 64 * KiB, hardLimitBytes: 512 * MiB, maxBehindMs: 3_600_000 } });
  const ids = [await createSyntheticJob(server), await createSyntheticJob(server), await createSyntheticJob(server)];
  const slow = await connectWs(t, server.url);
  const fast = await connectWs(t, server.url);
  assert.equal((await slow.subscribe('*')).type, 'subscribed');
  assert.equal((await fast.subscribe('*')).type, 'subscribed');
  slow.ws.pause();
  let rounds = 0;
  while (server.hub.stats().behind === 0) {
    assert.ok(++rounds < 2000, 'the stalled dashboard falls behind');
    for (const id of ids) await appendProgress(server, id, rounds, 1_000_000, 8 * KiB);
    await yieldToIo();
  }
  // A job created while the dashboard is behind: its job.queued is missed too.
  ids.push(await createSyntheticJob(server));
  for (const id of ids) await appendProgress(server, id, 999_999, 1_000_000, 8 * KiB);
  const lastSeqs = await Promise.all(ids.map(async (id) => (await getJob(server.url, id)).seq));

  slow.ws.resume();
  for (const [i, id] of ids.entries()) {
    await slow.next((m) => m.type === 'snapshot' && m.job.id === id && m.job.seq === lastSeqs[i], HANG_MS, `a fresh snapshot of job ${i}`);
  }
  await waitFor(() => server.hub.stats().behind === 0, 'the dashboard to be live again');
  const finals = [];
  for (const id of ids) finals.push(await finishSyntheticJob(server, id));
  for (const [i, id] of ids.entries()) {
    for (const client of [slow, fast]) {
      const view = await client.untilFinal(id);
      assert.deepEqual(view.snapshot, finals[i]);
      assert.deepEqual(view.gaps, []);
      assert.deepEqual(view.duplicates, []);
    }
  }
  const freshSnapshots = slow.received.filter((m) => m.type === 'snapshot').length - 3;
  t.diagnostic(`behind after ${rounds} rounds; ${freshSnapshots} fresh snapshots for ${ids.length} jobs; the fast dashboard got ${fast.received.filter((m) => m.type === 'event').length} events`);
  assert.equal(freshSnapshots, ids.length, 'one per job, not one per missed event');
  assert.equal(fast.received.filter((m) => m.type === 'snapshot').length, 3, 'the fast dashboard never needed one');
});
