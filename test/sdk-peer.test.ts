// The client SDK's defences, against a scripted peer on a real socket (the real
// server never sends these): malformed frames are ignored, duplicates are not applied,
// a gap or an unfoldable event resubscribes, a silent connection is replaced, a 1013,
// 1001 or 1006 close is resumed from, the `*` view folds unknown jobs by the SPEC's rules, and a
// socket that never opens is given up on.

import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import type { WatchInfo } from '../client/jobcast-client.js';
import { foldEvents } from '../server/protocol/reducer.js';
import type { JobEvent, Snapshot } from '../server/protocol/types.js';
import { jobEvents } from './helpers/sdk-events.js';
import { startScriptedPeer } from './helpers/sdk-peer.js';
import { openClient, Trace } from './helpers/sdk-trace.js';
import { TEST_HANG_MS } from './helpers/patience.js';

type Seen = [Snapshot | null, WatchInfo];
const ID = 'job1';
const events = jobEvents(ID);
const snapshotAt = (seq: number) => foldEvents(null, events.slice(0, seq))!;
const isSubscribe = (since?: number) => ({ message }: { message: { op: string; job?: string; since?: number } }) =>
  message.op === 'subscribe' && message.job === ID && message.since === since;

test('malformed frames are ignored, a duplicate is not applied, a gap resubscribes with since, a bad event asks for a snapshot', async (t) => {
  const peer = await startScriptedPeer(t);
  const { client, states } = openClient(t, { url: peer.url });
  const seen = new Trace<Seen>();
  client.watch(ID, (snapshot, info) => seen.push([snapshot, info]));
  await peer.received.until('subscribe without since', isSubscribe(undefined));

  for (const junk of ['not json', '[]', '{"type":"event"}', '{"type":"snapshot","job":{}}', '{"type":"martian"}', 'null']) peer.send(0, junk);
  peer.connections[0]!.send(new Uint8Array([1, 2, 3]));
  peer.send(0, { type: 'snapshot', job: snapshotAt(2) });
  // `subscribed` says seq 3 was delivered, the view holds 2: the client asks again from 2.
  peer.send(0, { type: 'subscribed', job: ID, seq: 3, mode: 'snapshot' });
  await peer.received.until('subscribe since 2', isSubscribe(2));
  peer.send(0, events[2]!);
  peer.send(0, { type: 'subscribed', job: ID, seq: 3, mode: 'resume' });
  await seen.until('acknowledged at seq 3', ([s, info]) => s?.seq === 3 && info.mode === 'resume');
  await states.until('live', ([state]) => state === 'live');

  peer.send(0, events[2]!); // a duplicate
  peer.send(0, events[4]!); // seq 5: 4 is missing
  await peer.received.until('subscribe since 3', isSubscribe(3));
  peer.send(0, events[3]!);
  peer.send(0, events[4]!);
  peer.send(0, { type: 'subscribed', job: ID, seq: 5, mode: 'resume' });
  await seen.until('seq 5', ([s, info]) => s?.seq === 5 && info.mode === 'resume');

  // The next seq, but a body the reducer cannot fold: only a fresh snapshot repairs that.
  peer.send(0, { ...events[5]!, name: 'job.queued', data: { files: 7 } } as unknown as JobEvent);
  await peer.received.until('subscribe without since again', isSubscribe(undefined), { from: 1 });
  peer.send(0, { type: 'snapshot', job: snapshotAt(6) });
  peer.send(0, { type: 'subscribed', job: ID, seq: 6, mode: 'snapshot' });
  await seen.until('the final snapshot', ([s, info]) => s?.seq === 6 && info.mode === 'snapshot');

  assert.deepEqual(seen.last![0], foldEvents(null, events));
  const applied = seen.values.flatMap(([, info]) => (info.event === undefined ? [] : [info.event.seq]));
  assert.deepEqual(applied, [3, 4, 5], 'each event folded once, in order');
  assert.deepEqual(
    peer.received.values.map(({ message }) => message),
    [
      { op: 'subscribe', job: ID },
      { op: 'subscribe', job: ID, since: 2 },
      { op: 'subscribe', job: ID, since: 3 },
      { op: 'subscribe', job: ID },
    ],
  );
  assert.deepEqual(states.values.map(([state]) => state), ['live'], 'no reconnect: bad frames do not break the socket');
  assert.equal(peer.connections.length, 1);
});

test('pings: an answered ping keeps the socket, a connection that answers nothing is replaced and resumed', { timeout: TEST_HANG_MS }, async (t) => {
  // The client must read each pong before its next tick: a period of seconds, so that only
  // a hang, not a busy machine, could hold the client that long.
  const peer = await startScriptedPeer(t);
  const { client, states } = openClient(t, { url: peer.url, pingIntervalMs: 5000 });
  const seen = new Trace<Seen>();
  client.watch(ID, (snapshot, info) => seen.push([snapshot, info]));
  await peer.received.until('subscribe', isSubscribe(undefined));
  peer.send(0, { type: 'snapshot', job: snapshotAt(4) });
  peer.send(0, { type: 'subscribed', job: ID, seq: 4, mode: 'snapshot' });
  await states.until('live', ([state]) => state === 'live');

  // Answered: the ping after an answered one comes on the same socket.
  await peer.received.until('ping 1', ({ connection, message }) => connection === 0 && message.op === 'ping');
  peer.send(0, { type: 'pong' });
  await peer.received.until('ping 2 on the same socket', ({ connection, message }) => connection === 0 && message.op === 'ping', {
    from: peer.received.values.length,
  });
  assert.equal(peer.connections.length, 1);

  // Silent from now on: the next unanswered interval ends the socket (close code 4000) and a new one resumes.
  const { code } = await peer.closed.until('the client to give up on connection 0', ({ connection }) => connection === 0);
  assert.equal(code, 4000);
  await peer.received.until('subscribe since 4 on a new connection', (r) => r.connection === 1 && isSubscribe(4)(r));
  peer.send(1, events[4]!);
  peer.send(1, { type: 'subscribed', job: ID, seq: 5, mode: 'resume' });
  const live = await states.until('live again', ([state]) => state === 'live', { from: 1 });
  assert.deepEqual(live[1], { attempt: 1, resumed: true });
  assert.deepEqual(states.values.map(([state]) => state), ['live', 'reconnecting', 'live']);
  assert.deepEqual(seen.last![0], snapshotAt(5));
});

test('any close is reconnected: 1013 from a slow-reader policy, 1001 from a shutdown, 1006 from a cut', async (t) => {
  const peer = await startScriptedPeer(t);
  const { client, states } = openClient(t, { url: peer.url });
  const seen = new Trace<Seen>();
  client.watch(ID, (snapshot, info) => seen.push([snapshot, info]));
  await peer.received.until('subscribe', isSubscribe(undefined));
  peer.send(0, { type: 'snapshot', job: snapshotAt(2) });
  peer.send(0, { type: 'subscribed', job: ID, seq: 2, mode: 'snapshot' });

  for (const [index, code] of [[0, 1013], [1, 1001], [2, 1006]] as const) {
    // 1006 is no code a server sends: the client sees it when the socket ends without a
    // close frame, as after the server cuts a reader that did not take its 1013 (SPEC 3.3).
    if (code === 1006) peer.connections[index]!.terminate();
    else peer.connections[index]!.close(code, 'bye');
    await peer.received.until(`subscribe since ${index + 2} after ${code}`, (r) => r.connection === index + 1 && isSubscribe(index + 2)(r));
    peer.send(index + 1, events[index + 2]!);
    peer.send(index + 1, { type: 'subscribed', job: ID, seq: index + 3, mode: 'resume' });
    await seen.until(`seq ${index + 3}`, ([s, info]) => s?.seq === index + 3 && info.mode === 'resume');
  }
  assert.deepEqual(states.values.map(([state, detail]) => `${state}${detail.resumed ? ' resumed' : ''}`), [
    'live',
    'reconnecting',
    'live resumed',
    'reconnecting',
    'live resumed',
    'reconnecting',
    'live resumed',
  ]);
  assert.deepEqual(seen.last![0], snapshotAt(5));
});

test('watchAll folds by the SPEC rules: job.queued creates, later events of an unknown job wait for its snapshot, a gap re-reads `*`', async (t) => {
  const peer = await startScriptedPeer(t);
  const { client } = openClient(t, { url: peer.url });
  const all = new Trace<ReadonlyMap<string, Snapshot>>();
  client.watchAll(all.push);
  await peer.received.until('subscribe *', ({ message }) => message.op === 'subscribe' && message.job === '*');
  peer.send(0, { type: 'snapshot', job: snapshotAt(2) });
  peer.send(0, { type: 'subscribed', job: '*', mode: 'snapshot' });
  const first = await all.until('the catch-up', () => true);
  assert.deepEqual([...first.keys()], [ID]);

  const other = jobEvents('job2');
  peer.send(0, other[2]!); // seq 3 of a job never seen: ignored
  const third = jobEvents('job3');
  peer.send(0, third[0]!); // job.queued of a new job: created
  const withThird = await all.until('job3', (jobs) => jobs.has('job3'));
  assert.deepEqual([...withThird.keys()].sort(), [ID, 'job3']);
  peer.send(0, { type: 'position', job: 'job3', position: 1 });
  await all.until('job3 moved up', (jobs) => jobs.get('job3')?.queuePosition === 1);
  peer.send(0, { type: 'snapshot', job: foldEvents(null, other.slice(0, 3))! });
  await all.until('job2 from its snapshot', (jobs) => jobs.get('job2')?.seq === 3);
  peer.send(0, events[2]!);
  await all.until('job1 at 3', (jobs) => jobs.get(ID)?.seq === 3);

  // A gap through `*` (the server should have sent a snapshot): the client re-reads `*`,
  // and jobs the new catch-up does not mention are gone from the server.
  peer.send(0, events[4]!);
  await peer.received.until('subscribe * again', ({ message }) => message.op === 'subscribe' && message.job === '*', { from: 1 });
  peer.send(0, { type: 'snapshot', job: snapshotAt(5) });
  peer.send(0, { type: 'subscribed', job: '*', mode: 'snapshot' });
  const after = await all.until('the second catch-up', (jobs) => jobs.get(ID)?.seq === 5 && !jobs.has('job2'));
  assert.deepEqual([...after.entries()], [[ID, snapshotAt(5)]]);
  assert.ok(all.values.every((jobs) => !jobs.has('job2') || jobs.get('job2')!.seq === 3), 'job2 appeared only from its snapshot');
});

test('a socket that never finishes its opening handshake is given up on after pingIntervalMs and tried again', async (t) => {
  // Accepts TCP connections, reads the HTTP upgrade request and never answers: a proxy or server that hangs.
  const connections = new Trace<Socket>();
  const closes = new Trace<number>();
  const silent = createServer((socket) => {
    socket.resume();
    const index = connections.values.length;
    socket.once('close', () => closes.push(index));
    connections.push(socket);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    // Stop accepting first: the client may still be trying while the hooks run.
    silent.close(() => resolve());
    for (const socket of connections.values) socket.destroy();
  }));
  const { port } = silent.address() as AddressInfo;
  const { client, states } = openClient(t, { url: `http://127.0.0.1:${port}`, pingIntervalMs: 150 });
  await connections.until('the first connection', () => true);
  await states.until('reconnecting', ([state]) => state === 'reconnecting');
  await closes.until('the client to cut the first connection', (index) => index === 0);
  await connections.until('a second connection', () => connections.values.length >= 2);
  assert.equal(client.connectionState, 'reconnecting');
  assert.deepEqual(states.values[0], ['reconnecting', { attempt: 1, resumed: false }]);
});
