// The hub and its sessions against an in-memory connection and a store whose answers the
// test releases by hand. The sqlite and memory stores answer before any event can slip
// in; a remote store (Redis) will not, so each race of a catch-up with live events,
// positions, unsubscribes and store errors is played here step by step. The guarantees
// themselves are shown over real sockets by ws-*.test.ts, slow-reader.test.ts and sse.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rig, settled } from './helpers/hub-rig.js';

test('one event is serialised into one Frame, the same object for every subscriber', async (t) => {
  const { store, connect } = rig(t);
  store.createRunning('a');
  const byName = [connect(), connect()];
  const dashboard = connect();
  for (const c of byName) c.send({ op: 'subscribe', job: 'a' });
  dashboard.send({ op: 'subscribe', job: '*' });
  await store.answerAll();
  const sentBefore = [...byName, dashboard].map((c) => c.conn.frames.length);
  store.progress('a', 5);
  const frames = [...byName, dashboard].map((c, i) => c.conn.frames.slice(sentBefore[i]));
  for (const sent of frames) assert.equal(sent.length, 1);
  assert.ok(frames.every((sent) => sent[0] === frames[0]![0]), 'one Frame object shared');
  assert.equal(frames[0]![0]!.seq, 4);
});

test('resync: a live view whose events were lost, the final one included, gets a fresh snapshot', async (t) => {
  const { store, feed, connect } = rig(t);
  store.createRunning('a');
  const { conn, send } = connect();
  send({ op: 'subscribe', job: 'a' });
  await store.answerAll();
  feed.isLosing = true;
  store.progress('a', 4);
  store.finish('a');
  feed.isLosing = false;
  feed.resync();
  await store.answerAll();
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  assert.equal(jobs.get('a')!.status, 'completed');
  assert.deepEqual(jobs.get('a'), store.current('a'));
  assert.equal(conn.of('subscribed').length, 1, 'no second subscribed: the client asked once');
});

test('resync: a live "*" hears of a job created and finished while entries were lost, without a second subscribed', async (t) => {
  const { store, feed, connect } = rig(t);
  store.createRunning('a');
  const { conn, send } = connect();
  send({ op: 'subscribe', job: '*' });
  await store.answerAll();
  feed.isLosing = true;
  store.createRunning('b');
  store.finish('b');
  store.progress('a', 4);
  feed.isLosing = false;
  feed.resync();
  await store.answerAll();
  store.progress('a', 5);
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  assert.deepEqual(jobs.get('b'), store.current('b'));
  assert.deepEqual(jobs.get('a'), store.current('a'));
  assert.deepEqual(conn.of('subscribed'), [{ type: 'subscribed', job: '*', mode: 'snapshot' }]);
});

test('resync: a catch-up under way when entries are lost is done again once it ends', async (t) => {
  const { store, feed, connect } = rig(t);
  store.createRunning('a');
  const { conn, send } = connect();
  send({ op: 'subscribe', job: 'a' });
  await settled();
  // The store has read 'a' at seq 3; its end is lost on the way before the answer.
  feed.isLosing = true;
  store.finish('a');
  feed.isLosing = false;
  feed.resync();
  await store.answer('getSnapshot');
  await store.answerAll();
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  assert.deepEqual(jobs.get('a'), store.current('a'));
  assert.equal(jobs.get('a')!.status, 'completed');
});

test('race: "*" again while live does not send a snapshot older than the events its views already sent', async (t) => {
  const { store, connect } = rig(t);
  store.createRunning('a');
  const { conn, send } = connect();
  send({ op: 'subscribe', job: '*' });
  await store.answerAll();
  send({ op: 'subscribe', job: '*' });
  await store.answer('dashboardIds');
  // The store has read 'a' at seq 3; events 4 and 5 come before its answer.
  store.progress('a', 4);
  store.progress('a', 5);
  await store.answer('getSnapshot');
  store.progress('a', 6);
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  assert.deepEqual(jobs.get('a'), store.current('a'));
  assert.equal(conn.of('subscribed').length, 2);
});

test('race: a job that finishes while "*" is read again does not come back as running', async (t) => {
  const { store, connect } = rig(t);
  store.createRunning('a');
  const { conn, send } = connect();
  send({ op: 'subscribe', job: '*' });
  await store.answerAll();
  send({ op: 'subscribe', job: '*' });
  await store.answer('dashboardIds');
  // Read at seq 3, running; the job ends before the answer.
  store.finish('a');
  await store.answer('getSnapshot');
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  assert.equal(jobs.get('a')!.status, 'completed');
  assert.deepEqual(jobs.get('a'), store.current('a'));
});

test('race: unsubscribing a job by name while "*" is read keeps its seq; no older snapshot follows', async (t) => {
  const { store, connect } = rig(t);
  store.createRunning('a');
  const { conn, send } = connect();
  send({ op: 'subscribe', job: 'a' });
  await store.answerAll();
  send({ op: 'subscribe', job: '*' });
  await settled();
  // Listed at seq 3; the subscription by name sends 4 and 5 meanwhile, then goes.
  store.progress('a', 4);
  store.progress('a', 5);
  send({ op: 'unsubscribe', job: 'a' });
  store.progress('a', 6);
  await store.answerAll();
  store.progress('a', 7);
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  assert.deepEqual(jobs.get('a'), store.current('a'), 'still shown through "*", up to date');
  assert.deepEqual(conn.of('unsubscribed'), [{ type: 'unsubscribed', job: 'a' }]);
});

test('race: a position that arrives during the catch-up is sent after it, while the job is queued', async (t) => {
  const { store, connect } = rig(t);
  store.create('q', 3);
  const { conn, send } = connect();
  send({ op: 'subscribe', job: 'q' });
  await settled();
  // Read at position 3; the queue moves twice before the answer.
  store.move('q', 2);
  store.move('q', 1);
  await store.answer('getSnapshot');
  assert.deepEqual(conn.of('position'), [{ type: 'position', job: 'q', position: 1 }], 'the latest one only');
  assert.equal(conn.fold().jobs.get('q')!.queuePosition, 1);
  const types = conn.messages.map((m) => m.type);
  assert.deepEqual(types, ['snapshot', 'position', 'subscribed'], 'after the snapshot it corrects');
});

test('race: a position followed by job.started during the catch-up is not sent', async (t) => {
  const { store, connect } = rig(t);
  store.create('q', 2);
  const { conn, send } = connect();
  send({ op: 'subscribe', job: 'q', since: 0 });
  await store.answer('eventsSince');
  store.move('q', 1);
  store.append('q', 'job.started', {});
  await store.answer('getSnapshot');
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  assert.equal(jobs.get('q')!.status, 'running');
  assert.equal(jobs.get('q')!.queuePosition, null, 'the position from before the start is not applied after it');
});

test('race: a position that arrives while a "*" snapshot is read is sent after it, for a job still queued', async (t) => {
  const { store, connect } = rig(t);
  store.create('q', 3);
  store.create('r', 4);
  const { conn, send } = connect();
  send({ op: 'subscribe', job: '*' });
  await store.answer('dashboardIds');
  // q is read at position 3; the queue moves, then r starts, before the answers.
  store.move('q', 2);
  store.move('r', 3);
  store.append('r', 'job.started', {});
  await store.answerAll();
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  assert.deepEqual(conn.of('position'), [{ type: 'position', job: 'q', position: 2 }], 'after its snapshot; none for r, which was ahead');
  assert.deepEqual(jobs.get('q'), store.current('q'));
  assert.deepEqual(jobs.get('r'), store.current('r'));
  assert.equal(jobs.get('r')!.queuePosition, null, 'the position from before r started is not applied after it');
});

test('race: while the "*" list is read, jobs seen live are shown live; the walk then sends no older snapshot', async (t) => {
  const { store, connect } = rig(t);
  store.create('q', 3);
  store.create('r', 4);
  const { conn, send } = connect();
  send({ op: 'subscribe', job: '*' });
  await settled();
  store.move('q', 2);
  store.move('r', 3);
  store.append('r', 'job.started', {});
  await store.answerAll();
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  assert.deepEqual(jobs.get('q'), store.current('q'));
  assert.deepEqual(jobs.get('r'), store.current('r'));
  assert.equal(conn.of('snapshot').filter((s) => s.job.id === 'r').length, 1, 'r: one snapshot, at its start');
});

test('race: a store error during a catch-up drops the view and tells the client; the slot is free again', async (t) => {
  const { store, connect, errors } = rig(t, { maxSubscriptions: 1 });
  store.createRunning('a');
  store.createRunning('b');
  const { conn, send } = connect();
  send({ op: 'subscribe', job: 'a' });
  await settled();
  store.progress('a', 4);
  await store.fail('getSnapshot', new Error('connection reset'));
  assert.deepEqual(
    conn.of('error').map((e) => [e.code, e.job]),
    [['internal_error', 'a']],
  );
  assert.equal(errors.length, 1, 'logged');
  // Nothing piles up for the dropped view, and its subscription no longer counts.
  const count = conn.frames.length;
  store.progress('a', 5);
  assert.equal(conn.frames.length, count);
  send({ op: 'subscribe', job: 'b' });
  await store.answerAll();
  assert.deepEqual(conn.of('subscribed').map((s) => s.job), ['b']);
  // And the job can be subscribed again.
  send({ op: 'unsubscribe', job: 'b' });
  send({ op: 'subscribe', job: 'a' });
  await store.answerAll();
  assert.deepEqual(conn.fold().jobs.get('a'), store.current('a'));
});

test('race: job_not_found during a catch-up still answers job_not_found, and is not logged', async (t) => {
  const { store, connect, errors } = rig(t);
  const { conn, send } = connect();
  send({ op: 'subscribe', job: 'nope' });
  await store.answerAll();
  assert.deepEqual(conn.of('error').map((e) => [e.code, e.job]), [['job_not_found', 'nope']]);
  assert.equal(errors.length, 0);
});

test('race: a store error while "*" is read turns "*" off with an error; it can be subscribed again', async (t) => {
  const { store, connect, errors } = rig(t);
  store.createRunning('a');
  const { conn, send } = connect();
  send({ op: 'subscribe', job: '*' });
  await settled();
  store.progress('a', 4);
  await store.fail('dashboardIds', new Error('timeout'));
  assert.deepEqual(conn.of('error').map((e) => [e.code, e.job]), [['internal_error', '*']]);
  assert.equal(errors.length, 1);
  const count = conn.frames.length;
  store.progress('a', 5);
  assert.equal(conn.frames.length, count, '"*" is off');
  send({ op: 'subscribe', job: '*' });
  await store.answerAll();
  store.progress('a', 6);
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  assert.deepEqual(jobs.get('a'), store.current('a'));
});

test('race: a store error in the catch-up after a drain drops the view; the next event brings a snapshot', async (t) => {
  const { store, connect, errors } = rig(t);
  store.createRunning('a');
  const { conn, send, drain } = connect();
  send({ op: 'subscribe', job: '*' });
  await store.answerAll();
  conn.buffered = 5000;
  store.progress('a', 4);
  conn.buffered = 0;
  drain();
  await settled();
  await store.fail('getSnapshot', new Error('connection reset'));
  assert.deepEqual(conn.of('error').map((e) => [e.code, e.job]), [['internal_error', 'a']]);
  assert.equal(errors.length, 1);
  store.progress('a', 5);
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  assert.deepEqual(jobs.get('a'), store.current('a'));
});

test('a re-subscribe by name during its own catch-up supersedes it: one answer, nothing twice', async (t) => {
  const { store, connect } = rig(t);
  store.createRunning('a');
  const { conn, send } = connect();
  send({ op: 'subscribe', job: 'a' });
  await store.answerAll();
  send({ op: 'subscribe', job: 'a' });
  await settled();
  store.progress('a', 4);
  send({ op: 'subscribe', job: 'a', since: 3 });
  await settled();
  store.progress('a', 5);
  await store.answerAll();
  store.progress('a', 6);
  const { jobs, problems } = conn.fold();
  assert.deepEqual(problems, []);
  assert.deepEqual(jobs.get('a'), store.current('a'));
  assert.deepEqual(
    conn.of('subscribed').map((s) => [s.mode, s.seq]),
    [
      ['snapshot', 3],
      ['resume', 5],
    ],
    'the superseded catch-up sent nothing',
  );
});

test('closing a connection mid catch-up: nothing is sent and the hub forgets it', async (t) => {
  const { hub, store, connect } = rig(t);
  store.createRunning('a');
  const { conn, send, close } = connect();
  send({ op: 'subscribe', job: 'a' });
  send({ op: 'subscribe', job: '*' });
  await settled();
  close();
  await store.answerAll();
  store.progress('a', 4);
  assert.equal(conn.frames.length, 0);
  assert.equal(hub.size, 0);
});
