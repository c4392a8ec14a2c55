// The hub's limits (SPEC 7 "one client cannot take the server down") against an in-memory
// connection and a hand-released store (helpers/hub-rig.ts): what a message costs is
// bounded by what the client can receive. Over real sockets: ws-abuse.test.ts and
// ws-abuse-memory.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeConnection, rig } from './helpers/hub-rig.js';

test('replies wait while the buffer is over the soft limit: the connection is not read, then they go out in order', async (t) => {
  const { hub, connect } = rig(t);
  const { conn, send, drain } = connect();
  conn.buffered = 5000;
  send({ op: 'ping' });
  send('not json' as unknown as object);
  send({ op: 'unsubscribe', job: 'x' });
  assert.equal(conn.frames.length, 0, 'no reply made for a client that does not read');
  assert.equal(conn.isPaused, true, 'the connection is no longer read');
  assert.equal(hub.stats().paused, 1);
  conn.buffered = 0;
  drain();
  assert.deepEqual(conn.messages.map((m) => m.type), ['pong', 'error', 'unsubscribed']);
  assert.equal(conn.isPaused, false);
});

test('every write counts: a reply that passes the soft limit starts the behind clock, one past the hard limit closes with 1013', async (t) => {
  const { hub, connect } = rig(t);
  const { conn, send } = connect();
  // The buffer grows with what is sent, as a socket's does when its client does not read.
  let bytesPerFrame = 600;
  conn.send = function (frame) {
    FakeConnection.prototype.send.call(this, frame);
    this.buffered += bytesPerFrame;
  };
  send({ op: 'ping' });
  assert.equal(hub.stats().behind, 0);
  send({ op: 'ping' });
  assert.equal(hub.stats().behind, 1, 'two pongs passed the soft limit (1000 bytes here)');
  conn.buffered = 0;
  bytesPerFrame = 9 * 1024 * 1024;
  send({ op: 'ping' });
  assert.equal(conn.closedWith, 1013, 'past the hard limit (8 MiB by default)');
});

test('repeated subscribes to one job coalesce: one read in flight, one waiting, the latest request answered', async (t) => {
  const { store, connect } = rig(t);
  store.createRunning('a');
  const { conn, send } = connect();
  for (let i = 0; i < 100; i++) send({ op: 'subscribe', job: 'a', since: 0 });
  send({ op: 'subscribe', job: 'a' });
  assert.equal(store.reads.eventsSince + store.reads.getSnapshot, 1, 'one read in flight; the other requests wait as one');
  await store.answerAll();
  // The first catch-up (events, then the snapshot for the position) is superseded; then one for the latest request.
  assert.deepEqual(store.reads, { eventsSince: 1, getSnapshot: 2, dashboardIds: 0 });
  assert.deepEqual(conn.of('subscribed').map((s) => [s.mode, s.seq]), [['snapshot', 3]]);
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  assert.deepEqual(jobs.get('a'), store.current('a'));
});

test('subscribe/unsubscribe churn costs a read per catch-up started, none for requests superseded before they start; a close drops the rest', async (t) => {
  const { hub, store, connect } = rig(t);
  store.createRunning('a');
  const { conn, send, close } = connect();
  for (let i = 0; i < 500; i++) {
    send({ op: 'subscribe', job: 'a' });
    send({ op: 'unsubscribe', job: 'a' });
  }
  assert.equal(store.reads.getSnapshot, 1, 'the first starts a read; every later subscribe waits behind it and is cancelled');
  assert.equal(conn.of('unsubscribed').length, 500);
  send({ op: 'subscribe', job: 'a' });
  close();
  await store.answerAll();
  assert.equal(store.reads.getSnapshot, 1, 'nothing read for a connection that is gone');
  assert.equal(conn.of('snapshot').length, 0);
  assert.equal(hub.size, 0);
});

test('a "*" catch-up reads and sends one snapshot at a time, and waits for the client to read before the next', async (t) => {
  const { store, connect } = rig(t);
  for (const id of ['a', 'b', 'c', 'd']) store.createRunning(id);
  const { conn, send, drain } = connect();
  send({ op: 'subscribe', job: '*' });
  await store.answer('dashboardIds');
  assert.equal(store.reads.getSnapshot, 1, 'one snapshot read at a time');
  // The client stops reading: its buffer passes the soft limit with the first snapshot.
  conn.buffered = 5000;
  await store.answer('getSnapshot');
  assert.equal(conn.of('snapshot').length, 1);
  assert.equal(store.waiting, 0, 'no read for a snapshot the client cannot take yet');
  store.progress('b', 4);
  conn.buffered = 0;
  drain();
  await store.answerAll();
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  for (const id of ['a', 'b', 'c', 'd']) assert.deepEqual(jobs.get(id), store.current(id));
  assert.equal(store.reads.getSnapshot, 4, 'each job read once');
  assert.equal(conn.of('subscribed').length, 1);
});

test('200 "*" requests at once: the list is read for the first and the latest only, and one subscribed answers', async (t) => {
  const { store, connect } = rig(t);
  store.createRunning('a');
  const { conn, send } = connect();
  for (let i = 0; i < 200; i++) send({ op: 'subscribe', job: '*' });
  await store.answerAll();
  assert.equal(store.reads.dashboardIds, 2);
  assert.equal(store.reads.getSnapshot, 1);
  assert.deepEqual(conn.of('subscribed'), [{ type: 'subscribed', job: '*', mode: 'snapshot' }]);
});

test('a finished job is read once for every connection, and every one is sent the same Frame', async (t) => {
  const { store, connect } = rig(t);
  store.createRunning('f');
  store.finish('f');
  const clients = [connect(), connect(), connect()];
  for (const c of clients) {
    c.send({ op: 'subscribe', job: 'f' });
    await store.answerAll();
  }
  assert.equal(store.reads.getSnapshot, 1);
  const frames = clients.map((c) => c.conn.frames.find((f) => f.name === 'snapshot'));
  assert.ok(frames[0] !== undefined && frames.every((f) => f === frames[0]), 'one serialisation shared');
});

test('past --max-messages-per-second the connection is told too_many_messages and closed with 1008', async (t) => {
  const { connect } = rig(t, { maxMessagesPerSecond: 5, maxSubscriptions: 10 });
  const { conn, send } = connect();
  // The bucket holds --max-subscriptions + --max-messages-per-second messages.
  for (let i = 0; i < 15; i++) send({ op: 'ping' });
  assert.equal(conn.closedWith, null);
  send({ op: 'ping' });
  assert.equal(conn.closedWith, 1008);
  assert.deepEqual(conn.of('error').map((e) => e.code), ['too_many_messages']);
  send({ op: 'ping' });
  assert.equal(conn.of('pong').length, 15, 'nothing handled once closing');
});
