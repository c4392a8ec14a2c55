// One hostile client must not take the server down (SPEC 7), over real sockets: the work
// a message makes the server do is bounded by what the client can receive. Each test
// reproduces an attack found by review, on an in-process server whose store is wrapped
// to count reads (the real SQLite store underneath), with raw WebSocket clients that
// write many frames at once and never read unless told to.
// The same attacks against a server in a child process, measured in RSS, are in
// ws-abuse-memory.test.ts.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { nanoid } from 'nanoid';
import type { RunningServer } from '../server/app.js';
import type { Snapshot } from '../server/protocol/types.js';
import type { Store } from '../server/store/store.js';
import { clientFrame, RawWs, repeatFrames } from './helpers/raw-ws.js';
import { ON_UWS, startTestServer } from './helpers/server.js';
import { waitFor } from './helpers/ws-client.js';
import { TEST_HANG_MS } from './helpers/patience.js';

/** --max-messages-per-second high enough never to be reached: these tests show the other bounds. */
const UNLIMITED_RATE = 1e9;

/** Counts every call of the store's read methods, by method and job id; the store underneath is the real one. */
class ReadCounter {
  readonly byMethod = new Map<string, number>();
  readonly byJob = new Map<string, number>();

  wrap = (store: Store): Store =>
    new Proxy(store, {
      get: (target, key) => {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        // Called on the store itself, whose private fields a proxy cannot reach.
        if (!READS.has(String(key))) return (value as (...a: unknown[]) => unknown).bind(target);
        return (...args: unknown[]) => {
          this.byMethod.set(String(key), this.of(String(key)) + 1);
          if (typeof args[0] === 'string') this.byJob.set(args[0], (this.byJob.get(args[0]) ?? 0) + 1);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });

  of(method: string): number {
    return this.byMethod.get(method) ?? 0;
  }

  total(): number {
    let sum = 0;
    for (const n of this.byMethod.values()) sum += n;
    return sum;
  }

  reset(): void {
    this.byMethod.clear();
    this.byJob.clear();
  }
}

const READS = new Set(['getSnapshot', 'eventsSince', 'list', 'idsByStatus', 'recentlyFinished']);

/**
 * A job of `files` files with 200-character names (a 1,000-file snapshot is about 330 KB of
 * JSON), written straight to the log: queued, or cancelled (finished) when `isFinished`.
 */
async function createLargeJob(server: Pick<RunningServer, 'log'>, files: number, isFinished: boolean): Promise<Snapshot> {
  const id = nanoid();
  const list = Array.from({ length: files }, (_, index) => ({ index, name: `${String(index).padStart(4, '0')}-${'n'.repeat(195)}`, size: 1, type: 'text/plain' }));
  const queued = await server.log.create(id, { name: 'job.queued', data: { processor: 'sha256', label: 'large', failFast: false, files: list, position: 1 } });
  return isFinished ? server.log.append(id, { name: 'job.cancelled', data: { durationMs: 1 } }) : queued;
}

/** GET /healthz; resolves with what `probe()` says at the moment the answer arrived. */
async function healthzThen<T>(url: string, probe: () => T): Promise<T> {
  const res = await fetch(`${url}/healthz`);
  const seen = probe();
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  return seen;
}

/** A server that counts its store reads, `count` queued jobs of `files` files each (reads counted from here), and a raw WebSocket client. */
async function queuedJobsAndAttacker(t: TestContext, count: number, files: number): Promise<{ reads: ReadCounter; server: RunningServer; jobs: Snapshot[]; attacker: RawWs }> {
  const reads = new ReadCounter();
  const server = await startTestServer(t, {}, { wrapStore: reads.wrap });
  const jobs: Snapshot[] = [];
  for (let i = 0; i < count; i++) jobs.push(await createLargeJob(server, files, false));
  reads.reset();
  const attacker = await RawWs.open(server.port);
  t.after(() => attacker.destroy());
  return { reads, server, jobs, attacker };
}

test('200 "*" subscribes in one write with 30 large queued jobs: two listings, each snapshot read at most twice, /healthz answered meanwhile', { timeout: TEST_HANG_MS }, async (t) => {
  const { reads, server, jobs, attacker } = await queuedJobsAndAttacker(t, 30, 1000);
  await attacker.write(repeatFrames(clientFrame('{"op":"subscribe","job":"*"}'), 200));
  const atHealthz = await healthzThen(server.url, () => ({ listings: reads.of('idsByStatus'), snapshots: reads.of('getSnapshot'), lists: reads.of('list') }));
  t.diagnostic(`when /healthz answered: ${JSON.stringify(atHealthz)}`);
  // Without the bounds: 200 listings, 6,000 snapshot reads and 200 pages of 100 snapshots, all before /healthz.
  assert.ok(atHealthz.listings <= 2, 'the repeated "*" requests coalesced into the first and the latest');
  assert.ok(atHealthz.snapshots <= 2 * jobs.length);
  assert.equal(atHealthz.lists, 0);
  // The client reads nothing: the catch-up stops once its buffer is full, and the server no longer reads the client.
  await waitFor(() => server.hub.stats().behind === 1, 'the catch-up to wait for the client');
  const whileStalled = reads.of('getSnapshot');
  t.diagnostic(`snapshots read while the client did not read: ${whileStalled} of ${jobs.length}`);
  assert.ok(whileStalled < jobs.length, 'paced by the client: not every snapshot was read for a client that did not read');

  attacker.startReading();
  await waitFor(() => attacker.messages.some((m) => (m as { type: string }).type === 'subscribed'), 'the "*" catch-up to end');
  const snapshots = attacker.messages.filter((m): m is { type: 'snapshot'; job: Snapshot } => (m as { type: string }).type === 'snapshot');
  const subscribed = attacker.messages.filter((m) => (m as { type: string }).type === 'subscribed');
  t.diagnostic(`${snapshots.length} snapshots and ${subscribed.length} subscribed sent; reads in all: ${JSON.stringify(Object.fromEntries(reads.byMethod))}`);
  assert.deepEqual(new Set(snapshots.map((s) => s.job.id)), new Set(jobs.map((j) => j.id)), 'every queued job shown');
  assert.equal(snapshots.length, jobs.length, 'once each');
  assert.equal(subscribed.length, 1, 'one answer, to the latest request');
  assert.ok(reads.of('idsByStatus') <= 2 && reads.of('getSnapshot') <= 2 * jobs.length);
});

test('200 "*" subscribes in one write from a client that reads at once: they coalesce all the same', { timeout: TEST_HANG_MS }, async (t) => {
  const { reads, jobs, attacker } = await queuedJobsAndAttacker(t, 10, 10);
  attacker.startReading();
  await attacker.write(repeatFrames(clientFrame('{"op":"subscribe","job":"*"}'), 200));
  await waitFor(() => attacker.messages.some((m) => (m as { type: string }).type === 'subscribed'), 'the "*" catch-up to end');
  await attacker.write(clientFrame('{"op":"ping"}'));
  await waitFor(() => attacker.messages.some((m) => (m as { type: string }).type === 'pong'), 'the pong after every answer');
  t.diagnostic(`reads: ${JSON.stringify(Object.fromEntries(reads.byMethod))}`);
  // A client that takes everything at once never fills its buffer, so nothing paces it: the
  // messages of one write must still reach the session together (uws: not one by one, each
  // catch-up done before the next message is seen), or each is a listing and 10 snapshot reads.
  assert.ok(reads.of('idsByStatus') <= 2, `the repeated "*" requests coalesced into the first and the latest (${reads.of('idsByStatus')} listings)`);
  assert.ok(reads.of('getSnapshot') <= 2 * jobs.length, `${reads.of('getSnapshot')} snapshot reads`);
  const subscribed = attacker.messages.filter((m) => (m as { type: string }).type === 'subscribed');
  assert.equal(subscribed.length, 1, 'one answer, to the latest request');
});

test('2,000 subscribes to one finished large job in one write, then 20 more clients: the job is read once and serialised once', { timeout: TEST_HANG_MS }, async (t) => {
  const reads = new ReadCounter();
  const server = await startTestServer(t, { maxMessagesPerSecond: UNLIMITED_RATE }, { wrapStore: reads.wrap });
  const job = await createLargeJob(server, 1000, true);
  reads.reset();

  const attacker = await RawWs.open(server.port);
  t.after(() => attacker.destroy());
  await attacker.write(repeatFrames(clientFrame(JSON.stringify({ op: 'subscribe', job: job.id })), 2000));
  const readsAtHealthz = await healthzThen(server.url, () => reads.byJob.get(job.id) ?? 0);
  // Without the bounds: 2,000 reads of the job and 2,000 copies of its 330 KB snapshot queued, before /healthz.
  assert.ok(readsAtHealthz <= 1, `read once (${readsAtHealthz})`);
  attacker.startReading();
  const isSubscribed = (m: unknown) => (m as { type: string }).type === 'subscribed';
  // Repeated subscribes coalesce; a few batches of them each get their own answer, the last request included.
  await waitFor(() => attacker.messages.some(isSubscribed) && server.hub.stats().behind === 0, 'the subscribes to be answered');
  await attacker.write(clientFrame('{"op":"ping"}'));
  await waitFor(() => attacker.messages.some((m) => (m as { type: string }).type === 'pong'), 'the pong after every answer');
  const sent = attacker.messages.filter((m) => (m as { type: string }).type === 'snapshot').length;
  t.diagnostic(`2,000 subscribes: ${sent} snapshots and ${attacker.messages.filter(isSubscribed).length} subscribed sent`);
  // uws cannot stop reading a socket (README, "Engines"): the frames of each of uWS's reads
  // may be handled as a batch of their own, so a few more batches get their answer there.
  assert.ok(sent <= (ON_UWS ? 32 : 4), `the coalesced subscribes sent ${sent} snapshots, not 2,000`);

  const others = await Promise.all(Array.from({ length: 20 }, () => RawWs.open(server.port)));
  for (const client of others) {
    t.after(() => client.destroy());
    client.startReading();
    await client.write(clientFrame(JSON.stringify({ op: 'subscribe', job: job.id })));
  }
  await waitFor(() => others.every((c) => c.messages.some(isSubscribed)), 'the 20 clients to be answered');
  t.diagnostic(`reads of the job in all: ${reads.byJob.get(job.id)}; snapshot cache ${JSON.stringify(server.hub.stats())}`);
  assert.equal(reads.byJob.get(job.id), 1, 'a finished job is read once for every subscriber: the cache serves the rest');
  for (const client of others) assert.deepEqual((client.messages[0] as { job: Snapshot }).job, job);
});

test('subscribe/unsubscribe churn on 4 connections that do not read: the job is read once, and nothing is left to do once they leave', { timeout: TEST_HANG_MS }, async (t) => {
  const reads = new ReadCounter();
  const server = await startTestServer(t, { maxMessagesPerSecond: UNLIMITED_RATE }, { wrapStore: reads.wrap });
  const job = await createLargeJob(server, 1000, true);
  reads.reset();
  const pair = Buffer.concat([clientFrame(JSON.stringify({ op: 'subscribe', job: job.id })), clientFrame(JSON.stringify({ op: 'unsubscribe', job: job.id }))]);
  const chunk = repeatFrames(pair, 500);
  const clients = await Promise.all(Array.from({ length: 4 }, () => RawWs.open(server.port)));
  let isStopped = false;
  // Each writes as fast as the server takes it: at most 2,000 pairs, or until the server stops reading it.
  const floods = clients.map((c) => c.flood(chunk, 4 * chunk.length, () => isStopped));
  const healthWhileChurning = await healthzThen(server.url, () => clients.every((c) => !c.isClosed));
  assert.ok(healthWhileChurning, '/healthz answered while the four clients were still churning');
  let isWritten = false;
  void Promise.all(floods).then(() => (isWritten = true));
  await waitFor(() => isWritten || server.hub.stats().paused === 4, 'the floods to end, or the server to stop reading the four clients', 60_000);
  isStopped = true;
  const written = clients.reduce((sum, c) => sum + c.bytesWritten, 0) / pair.length;
  const stats = server.hub.stats();
  t.diagnostic(`${Math.round(written)} pairs written; ${stats.paused} connections no longer read; reads of the job: ${reads.byJob.get(job.id) ?? 0}`);
  // Without the bounds: one read (a fold of the 330 KB snapshot) and one serialisation per subscribe.
  assert.ok((reads.byJob.get(job.id) ?? 0) <= 1, 'the finished job is read once, whatever the churn');

  for (const c of clients) c.destroy();
  await waitFor(() => server.hub.size === 0, 'the server to see the four clients gone');
  const readsWhenGone = reads.total();
  const readsAfter = await healthzThen(server.url, () => reads.total());
  assert.equal(readsAfter, readsWhenGone, 'no read after the clients left');
  assert.equal(server.hub.stats().connections, 0);
});

test('past --max-messages-per-second a connection gets too_many_messages and 1008; a client re-subscribing --max-subscriptions jobs at once does not', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { maxSubscriptions: 300, maxMessagesPerSecond: 50 });
  // A client re-subscribing every watch after a reconnect: --max-subscriptions subscribes and a ping, in one write.
  const ids: string[] = [];
  for (let i = 0; i < 300; i++) ids.push((await createLargeJob(server, 1, false)).id);
  const sdk = await RawWs.open(server.port);
  t.after(() => sdk.destroy());
  sdk.startReading();
  await sdk.write(Buffer.concat([...ids.map((id) => clientFrame(JSON.stringify({ op: 'subscribe', job: id }))), clientFrame('{"op":"ping"}')]));
  await waitFor(() => sdk.messages.filter((m) => (m as { type: string }).type === 'subscribed').length === ids.length, 'every watch to be answered');
  assert.equal(sdk.closeCode, null, 'not closed');

  // A flood of pings: the bucket holds --max-subscriptions + --max-messages-per-second, here 350.
  const flooder = await RawWs.open(server.port);
  t.after(() => flooder.destroy());
  flooder.startReading();
  await flooder.write(repeatFrames(clientFrame('{"op":"ping"}'), 2000));
  await waitFor(() => flooder.closeCode !== null, 'the close frame');
  const errors = flooder.messages.filter((m) => (m as { type: string }).type === 'error') as Array<{ code: string }>;
  const pongs = flooder.messages.filter((m) => (m as { type: string }).type === 'pong').length;
  t.diagnostic(`${pongs} pongs, then ${JSON.stringify(errors)} and close ${flooder.closeCode}`);
  assert.equal(flooder.closeCode, 1008);
  assert.deepEqual(errors.map((e) => e.code), ['too_many_messages']);
  assert.ok(pongs >= 340 && pongs < 1000, `about the burst answered, not all 2,000 (${pongs})`);
  await flooder.closed;
  // The client that stayed within the rate is still served.
  await sdk.write(clientFrame('{"op":"ping"}'));
  await waitFor(() => sdk.messages.filter((m) => (m as { type: string }).type === 'pong').length === 2, 'its second pong');
});
