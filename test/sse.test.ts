// GET /jobs/{id}/events (SPEC 3.4) over real sockets: the snapshot first, ids and names,
// resume with Last-Event-ID or ?since=, 204 for a client that has everything, the snapshot
// for an id past the job's seq, errors, position messages, and a reader that stalls.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { applyEvent } from '../server/protocol/reducer.js';
import type { JobEvent, Snapshot } from '../server/protocol/types.js';
import { createJob, errorCode, getJob } from './helpers/http.js';
import { startTestServer } from './helpers/server.js';
import { SseReader, type SseMessage } from './helpers/sse-client.js';
import { appendProgress, createSyntheticJob, finishSyntheticJob, yieldToIo } from './helpers/synthetic-job.js';
import { connectWs, waitFor } from './helpers/ws-client.js';
import { TEST_HANG_MS } from './helpers/patience.js';

const KiB = 1024;

/** Folds SSE messages (snapshots, events, positions) the way an EventSource client would; checks ids and seqs. */
function fold(messages: SseMessage[], start: Snapshot | null = null): { snapshot: Snapshot | null; eventSeqs: number[] } {
  let snapshot = start;
  const eventSeqs: number[] = [];
  for (const m of messages) {
    const body = JSON.parse(m.data) as { type: string };
    if (m.event === 'snapshot') {
      const s = (body as unknown as { job: Snapshot }).job;
      assert.equal(m.id, String(s.seq), 'a snapshot carries its seq as id');
      snapshot = s;
    } else if (m.event === 'position') {
      assert.equal(m.id, null, 'a position message has no id');
      if (snapshot !== null) snapshot = { ...snapshot, queuePosition: (body as unknown as { position: number }).position };
    } else {
      const event = body as JobEvent;
      assert.equal(body.type, 'event');
      assert.equal(m.event, event.name, 'event: is the event name');
      assert.equal(m.id, String(event.seq), 'id: is the seq');
      if (snapshot !== null) assert.equal(event.seq, snapshot.seq + 1, 'no gap, no duplicate');
      eventSeqs.push(event.seq);
      snapshot = applyEvent(snapshot, event);
    }
  }
  return { snapshot, eventSeqs };
}

function openEvents(baseUrl: string, id: string, headers: Record<string, string> = {}, query = ''): Promise<Response> {
  return fetch(`${baseUrl}/jobs/${id}/events${query}`, { headers });
}

test('without Last-Event-ID: the snapshot first, then every event with id and name, and the stream ends after the final one', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const files = [30, 50, 1].map((k, i) => ({ name: `f${i}`, content: new Uint8Array(k * KiB) }));
  const job = await createJob(server.url, files, { processor: 'delay', options: JSON.stringify({ msPerMiB: 5000 }) });
  const res = await openEvents(server.url, job.id);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const reader = new SseReader(res);
  const first = (await reader.next())!;
  assert.equal(first.event, 'snapshot');
  assert.equal(JSON.parse(first.data).type, 'snapshot');
  const messages = [first, ...(await reader.rest())];
  const final = await getJob(server.url, job.id);
  const { snapshot, eventSeqs } = fold(messages);
  assert.deepEqual(snapshot, final);
  assert.equal(messages.at(-1)!.event, 'job.completed');
  assert.equal(eventSeqs.at(-1), final.seq);
  assert.equal(reader.retryMs, 1000);
  t.diagnostic(`SSE: snapshot at seq ${first.id}, then ${eventSeqs.length} events to seq ${final.seq}`);
});

test('Last-Event-ID (and ?since=) the log covers: the missed events come first, then live events', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const id = await createSyntheticJob(server);
  for (let i = 1; i <= 4; i++) await appendProgress(server, id, i * 100);
  const viaHeader = new SseReader(await openEvents(server.url, id, { 'last-event-id': '2' }));
  const viaQuery = new SseReader(await openEvents(server.url, id, {}, '?since=5'));
  const missed = [await viaHeader.next(), await viaHeader.next(), await viaHeader.next()];
  assert.deepEqual(missed.map((m) => [m!.id, m!.event]), [['3', 'file.started'], ['4', 'file.progress'], ['5', 'file.progress']]);
  assert.deepEqual([(await viaQuery.next())!.id, (await viaQuery.next())!.id], ['6', '7']);
  // Both are live now: the next append reaches both, then the end closes both streams.
  await appendProgress(server, id, 900);
  const final = await finishSyntheticJob(server, id);
  const headerRest = await viaHeader.rest();
  const queryRest = await viaQuery.rest();
  assert.deepEqual(headerRest.map((m) => m.id), ['6', '7', '8', '9', '10']);
  assert.deepEqual(queryRest.map((m) => m.id), ['8', '9', '10']);
  assert.equal(final.seq, 10);
  // Last-Event-ID wins over ?since= (an EventSource reconnecting keeps the URL it started with).
  const both = new SseReader(await openEvents(server.url, id, { 'last-event-id': '8' }, '?since=1'));
  assert.deepEqual((await both.rest()).map((m) => m.id), ['9', '10']);
  // Folding a resumed stream onto what the client had gives the final snapshot.
  const head = await openEvents(server.url, id, { 'last-event-id': '0' });
  const { snapshot } = fold(await new SseReader(head).rest());
  assert.deepEqual(snapshot, final);
});

test('Last-Event-ID older than the log gives the snapshot first; at the final seq of a finished job, 204', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { logSize: 5 });
  const id = await createSyntheticJob(server);
  for (let i = 1; i <= 6; i++) await appendProgress(server, id, i);
  const final = await finishSyntheticJob(server, id);
  assert.equal(final.seq, 11);
  const old = await new SseReader(await openEvents(server.url, id, { 'last-event-id': '3' })).rest();
  assert.deepEqual(old.map((m) => [m.event, m.id]), [['snapshot', '11']]);
  assert.deepEqual(fold(old).snapshot, final);
  const covered = await new SseReader(await openEvents(server.url, id, { 'last-event-id': '8' })).rest();
  assert.deepEqual(covered.map((m) => m.id), ['9', '10', '11']);
  const res = await openEvents(server.url, id, { 'last-event-id': '11' });
  assert.equal(res.status, 204, 'Last-Event-ID of the final event');
  assert.equal(await res.text(), '');
  assert.equal((await openEvents(server.url, id, {}, '?since=11')).status, 204);
});

test('Last-Event-ID past the job\'s seq gets the snapshot: then the end for a finished job, live events for a running one', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const done = await createSyntheticJob(server);
  const final = await finishSyntheticJob(server, done);
  for (const [headers, query] of [[{ 'last-event-id': String(final.seq + 1) }, ''], [{ 'last-event-id': '40' }, ''], [{}, `?since=${final.seq + 7}`]] as const) {
    const res = await openEvents(server.url, done, headers, query);
    assert.equal(res.status, 200, JSON.stringify([headers, query]));
    const messages = await new SseReader(res).rest();
    assert.deepEqual(messages.map((m) => [m.event, m.id]), [['snapshot', String(final.seq)]], 'the snapshot, then the stream ends');
    assert.deepEqual(fold(messages).snapshot, final);
  }
  const running = await createSyntheticJob(server);
  await appendProgress(server, running, 10);
  const reader = new SseReader(await openEvents(server.url, running, { 'last-event-id': '99' }));
  const first = (await reader.next())!;
  assert.deepEqual([first.event, first.id], ['snapshot', '4']);
  await appendProgress(server, running, 20);
  const last = await finishSyntheticJob(server, running);
  const rest = await reader.rest();
  assert.deepEqual(rest.map((m) => m.id), ['5', '6', '7']);
  assert.deepEqual(fold([first, ...rest]).snapshot, last);
});

test('errors: unknown job 404 job_not_found, bad since 400 invalid_query', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const id = await createSyntheticJob(server);
  for (const unknown of ['V1StGXR8_Z5jdHi6B-myT', 'no%20such', 'x'.repeat(80)]) {
    const res = await openEvents(server.url, unknown);
    assert.equal(res.status, 404, unknown);
    assert.equal(await errorCode(res), 'job_not_found');
  }
  for (const [headers, query] of [[{}, '?since=abc'], [{}, '?since=-1'], [{}, '?since=1.5'], [{ 'last-event-id': 'x7' }, ''], [{ 'last-event-id': '-3' }, '']] as const) {
    const res = await openEvents(server.url, id, headers, query);
    assert.equal(res.status, 400, JSON.stringify([headers, query]));
    assert.equal(await errorCode(res), 'invalid_query');
  }
});

test('position messages: event: position without id, as the queue moves', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { concurrency: 1 });
  // An hour each: they end only when the test cancels them.
  const blocker = await createJob(server.url, [{ name: 'b', content: 'b' }], { processor: 'delay', options: '{"minMs": 3600000}' });
  const ahead = await createJob(server.url, [{ name: 'a', content: 'a' }], { processor: 'delay', options: '{"minMs": 3600000}' });
  const job = await createJob(server.url, [{ name: 'c', content: 'c' }], { processor: 'delay', options: '{"minMs": 50}' });
  const reader = new SseReader(await openEvents(server.url, job.id));
  const first = (await reader.next())!;
  assert.equal((JSON.parse(first.data) as { job: Snapshot }).job.queuePosition, 2);
  await fetch(`${server.url}/jobs/${ahead.id}/cancel`, { method: 'POST' });
  const position = (await reader.next())!;
  assert.deepEqual(position, { id: null, event: 'position', data: JSON.stringify({ type: 'position', job: job.id, position: 1 }) });
  await fetch(`${server.url}/jobs/${blocker.id}/cancel`, { method: 'POST' });
  const rest = await reader.rest();
  assert.deepEqual(fold([first, position, ...rest]).snapshot, await getJob(server.url, job.id));
  assert.equal(rest.at(-1)!.event, 'job.completed');
});

test('a stalled SSE reader: a snapshot replaces what it missed once it reads again', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, {}, { hubLimits: { softLimitBytes: 64 * KiB, hardLimitBytes: 512 * 1024 * KiB, maxBehindMs: 3_600_000 } });
  const id = await createSyntheticJob(server);
  const reader = new SseReader(await openEvents(server.url, id));
  assert.equal((await reader.next())!.event, 'snapshot');
  // Not reading: fetch stops pulling from the socket once its own buffer is full.
  let appended = 0;
  while (server.hub.stats().behind === 0) {
    assert.ok(++appended < 5000, 'the stalled reader falls behind');
    await appendProgress(server, id, appended, 1_000_000, 16 * KiB);
    await yieldToIo();
  }
  for (let i = 1; i <= 20; i++) await appendProgress(server, id, appended + i, 1_000_000, 16 * KiB);
  const missedUpTo = (await getJob(server.url, id)).seq;
  // Reading again: what was buffered, then one snapshot in place of the rest, then live events.
  const before: SseMessage[] = [];
  let m = (await reader.next())!;
  for (; m.event !== 'snapshot'; m = (await reader.next())!) before.push(m);
  const fresh = JSON.parse(m.data).job as Snapshot;
  assert.equal(fresh.seq, missedUpTo);
  assert.equal(m.id, String(missedUpTo));
  await waitFor(() => server.hub.stats().behind === 0, 'the reader to be live again');
  for (let i = 1; i <= 3; i++) await appendProgress(server, id, 900_000 + i);
  const final = await finishSyntheticJob(server, id);
  const after = await reader.rest();
  t.diagnostic(`behind after ${appended} appends; read ${before.length} events, a snapshot at seq ${fresh.seq}, then ${after.length} live events`);
  assert.deepEqual(after.map((x) => Number(x.id)), [missedUpTo + 1, missedUpTo + 2, missedUpTo + 3, missedUpTo + 4, missedUpTo + 5]);
  assert.ok(before.length < missedUpTo - 3, 'some events were replaced by the snapshot');
  assert.deepEqual(fold([m, ...after]).snapshot, final);
  assert.deepEqual(before.map((x) => Number(x.id)), Array.from({ length: before.length }, (_, i) => 4 + i), 'contiguous before the snapshot');
});

test('an SSE reader stalled past maxBehindMs is cut off, and the server stays up', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { heartbeatMs: 100 }, { hubLimits: { softLimitBytes: 64 * KiB, hardLimitBytes: 512 * 1024 * KiB, maxBehindMs: 300 } });
  const id = await createSyntheticJob(server);
  const { port } = new URL(server.url);
  const socket = connect(Number(port), '127.0.0.1');
  t.after(() => socket.destroy());
  socket.pause();
  socket.write(`GET /jobs/${id}/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  await waitFor(() => server.hub.size === 1, 'the stream to open');
  let appended = 0;
  while (server.hub.stats().behind === 0) {
    assert.ok(++appended < 5000, 'the stalled reader falls behind');
    await appendProgress(server, id, appended, 1_000_000, 16 * KiB);
    await yieldToIo();
  }
  await waitFor(() => server.hub.stats().behind === 0, 'the server to give up on the reader');
  // Heartbeats keep firing after the stream was ended; the reader never reads; it must be dropped.
  await waitFor(() => server.hub.size === 0, 'the connection to be cut');
  let isClosed = false;
  socket.once('close', () => (isClosed = true));
  socket.resume();
  await waitFor(() => isClosed, 'the socket to close');
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  t.diagnostic(`cut after ${appended} appends`);
});

test('an SSE stream that ends while its reader is stalled survives the next heartbeats, and ends once read', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { heartbeatMs: 100 });
  const id = await createSyntheticJob(server);
  const { port } = new URL(server.url);
  const socket = connect(Number(port), '127.0.0.1');
  t.after(() => socket.destroy());
  socket.pause();
  socket.write(`GET /jobs/${id}/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  await waitFor(() => server.hub.size === 1, 'the stream to open');
  // Fill the kernel's buffers until the server holds some bytes itself (below the soft limit).
  let appended = 0;
  while (server.hub.stats().maxBufferedBytes < 64 * KiB) {
    assert.ok(++appended < 5000, 'the server buffers for the stalled reader');
    await appendProgress(server, id, appended, 1_000_000, 16 * KiB);
    await yieldToIo();
  }
  assert.equal(server.hub.stats().behind, 0);
  await finishSyntheticJob(server, id);
  // The final event ended the response, with bytes still queued. Let the heartbeat tick a few
  // times (the ws heartbeat runs on the same period): a write after the end would crash the server.
  const ws = await connectWs(t, server.url);
  let pings = 0;
  ws.ws.on('ping', () => pings++);
  await waitFor(() => pings >= 3, 'three heartbeats');
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.resume();
  await waitFor(() => text.endsWith('0\r\n\r\n'), 'the end of the chunked stream');
  assert.match(text, /event: job\.completed\n/);
  await waitFor(() => server.hub.size === 1, 'the hub to forget the finished stream (the ws client remains)');
  t.diagnostic(`${appended} events queued before the end; ${(text.length / 1024 / 1024).toFixed(1)} MiB read afterwards`);
});
