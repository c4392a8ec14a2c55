// The hub and its sessions against an in-memory connection and a store whose answers the
// test releases by hand. The sqlite and memory stores answer before any event can slip
// in; a remote store (Redis) will not, so each race of a catch-up with live events,
// positions, unsubscribes and store errors is played here step by step. The guarantees
// themselves are shown over real sockets by ws-*.test.ts, slow-reader.test.ts and sse.test.ts.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { JobcastError } from '../server/errors.js';
import { Frame } from '../server/hub/frame.js';
import { Hub } from '../server/hub/hub.js';
import { EventBus } from '../server/jobs/event-bus.js';
import type { Logger } from '../server/logger.js';
import { applyEvent } from '../server/protocol/reducer.js';
import type { EventDataMap, EventName, JobEvent, ServerMessage, Snapshot } from '../server/protocol/types.js';
import type { Connection } from '../server/transport/connection.js';

type Kind = 'getSnapshot' | 'eventsSince' | 'dashboardIds';

/** A read the store has made but not answered yet: the value is what the store held when asked. */
interface Call {
  kind: Kind;
  job: string | null;
  settle(): void;
  fail(err: Error): void;
}

/** Jobs folded with the real reducer; every read answers only when the test says so. */
class FakeStore {
  private readonly jobs = new Map<string, { snapshot: Snapshot; events: JobEvent[]; position: number | null }>();
  private readonly calls: Call[] = [];
  /** Reads made so far, by kind. */
  readonly reads: Record<Kind, number> = { getSnapshot: 0, eventsSince: 0, dashboardIds: 0 };

  constructor(private readonly bus: EventBus) {}

  /** A queued job at `position`. */
  create(job: string, position = 1): void {
    const files = [{ index: 0, name: 'a.bin', size: 10, type: 'application/octet-stream' }];
    this.jobs.set(job, { snapshot: null!, events: [], position });
    this.append(job, 'job.queued', { processor: 'sha256', label: null, failFast: false, files, position });
  }

  /** A running job at seq 3. */
  createRunning(job: string): void {
    this.create(job);
    this.append(job, 'job.started', {});
    this.append(job, 'file.started', { file: 0 });
  }

  append<N extends EventName>(job: string, name: N, data: EventDataMap[N]): JobEvent {
    const entry = this.jobs.get(job)!;
    const event = { type: 'event', job, seq: entry.events.length + 1, ts: 1000 + entry.events.length, name, data } as JobEvent;
    entry.events.push(event);
    entry.snapshot = applyEvent(entry.events.length === 1 ? null : entry.snapshot, event);
    if (name.startsWith('job.')) entry.position = entry.snapshot.queuePosition;
    this.bus.emit('event', event, entry.snapshot);
    return event;
  }

  progress(job: string, done: number): JobEvent {
    return this.append(job, 'file.progress', { file: 0, done, total: 10, fraction: done / 10, rate: null, etaMs: null, jobEtaMs: null });
  }

  finish(job: string): void {
    this.append(job, 'file.completed', { file: 0, durationMs: 1, result: null, output: false });
    this.append(job, 'job.completed', { durationMs: 1 });
  }

  /** The queue moved: the job's live position changes and a position message goes out. */
  move(job: string, position: number): void {
    this.jobs.get(job)!.position = position;
    this.bus.emit('position', { type: 'position', job, position });
  }

  /** The job as a GET would show it now, live position included. */
  current(job: string): Snapshot {
    const entry = this.jobs.get(job)!;
    return { ...entry.snapshot, queuePosition: entry.snapshot.status === 'queued' ? entry.position : null };
  }

  // What the hub asks for (HubOptions).

  readonly getSnapshot = (job: string): Promise<Snapshot> =>
    this.read('getSnapshot', job, () => {
      if (!this.jobs.has(job)) throw new JobcastError('job_not_found');
      return this.current(job);
    });

  readonly eventsSince = (job: string, since: number): Promise<JobEvent[] | null> =>
    this.read('eventsSince', job, () => this.jobs.get(job)?.events.slice(since) ?? null);

  readonly dashboardIds = (): Promise<string[]> => this.read('dashboardIds', null, () => [...this.jobs.keys()]);

  /** Reads now, answers when the test calls answer() or fail(). */
  private read<T>(kind: Kind, job: string | null, now: () => T): Promise<T> {
    this.reads[kind]++;
    return new Promise<T>((resolve, reject) => {
      let settle: () => void;
      try {
        const value = now();
        settle = () => resolve(value);
      } catch (err) {
        settle = () => reject(err);
      }
      this.calls.push({ kind, job, settle, fail: reject });
    });
  }

  /** Answers the oldest waiting read of `kind` with what the store held when it was made. */
  async answer(kind: Kind): Promise<void> {
    this.take(kind).settle();
    await settled();
  }

  async fail(kind: Kind, err: Error): Promise<void> {
    this.take(kind).fail(err);
    await settled();
  }

  /** Answers every read, oldest first, until none waits. */
  async answerAll(): Promise<void> {
    await settled();
    while (this.calls.length > 0) {
      this.calls.shift()!.settle();
      await settled();
    }
  }

  /** Reads made but not answered yet. */
  get waiting(): number {
    return this.calls.length;
  }

  private take(kind: Kind): Call {
    const index = this.calls.findIndex((c) => c.kind === kind);
    assert.notEqual(index, -1, `a ${kind} read is waiting`);
    return this.calls.splice(index, 1)[0]!;
  }
}

/** Lets every pending promise continuation run. */
function settled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A connection that keeps what it is sent; its buffer is whatever the test says. */
class FakeConnection implements Connection {
  readonly frames: Frame[] = [];
  buffered = 0;
  closedWith: number | null = null;
  isPaused = false;

  send(frame: Frame): void {
    this.frames.push(frame);
  }

  bufferedAmount(): number {
    return this.buffered;
  }

  close(code: number): void {
    this.closedWith = code;
  }

  pauseReading(): void {
    this.isPaused = true;
  }

  resumeReading(): void {
    this.isPaused = false;
  }

  get messages(): ServerMessage[] {
    return this.frames.map((f) => JSON.parse(f.text) as ServerMessage);
  }

  /** What the client ends up with per job, and every way the stream broke the seq rules of SPEC 3.2. */
  fold(): { jobs: Map<string, Snapshot>; problems: string[] } {
    const jobs = new Map<string, Snapshot>();
    const problems: string[] = [];
    for (const m of this.messages) {
      if (m.type === 'snapshot') {
        const had = jobs.get(m.job.id);
        if (had !== undefined && m.job.seq < had.seq) problems.push(`${m.job.id}: snapshot at ${m.job.seq} after ${had.seq}`);
        jobs.set(m.job.id, m.job);
      } else if (m.type === 'event') {
        const had = jobs.get(m.job) ?? null;
        if (had === null && m.name !== 'job.queued') problems.push(`${m.job}: event ${m.seq} with no snapshot`);
        else if (had !== null && m.seq !== had.seq + 1) problems.push(`${m.job}: event ${m.seq} after ${had.seq}`);
        else jobs.set(m.job, applyEvent(had, m));
      } else if (m.type === 'position') {
        const had = jobs.get(m.job);
        if (had !== undefined) jobs.set(m.job, { ...had, queuePosition: m.position });
      }
    }
    return { jobs, problems };
  }

  of<T extends ServerMessage['type']>(type: T): Array<Extract<ServerMessage, { type: T }>> {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }
}

interface Rig {
  hub: Hub;
  store: FakeStore;
  errors: unknown[];
  /** A new connection with its handlers; `send` delivers one client message. */
  connect(): { conn: FakeConnection; send(message: object): void; drain(): void; close(): void };
}

function rig(t: TestContext, options: { maxSubscriptions?: number; softLimitBytes?: number; maxMessagesPerSecond?: number } = {}): Rig {
  const bus = new EventBus();
  const store = new FakeStore(bus);
  const errors: unknown[] = [];
  const logger = { error: (obj: { err: unknown }) => errors.push(obj.err), info() {}, debug() {}, warn() {} } as unknown as Logger;
  const hub = new Hub({
    bus,
    logger,
    getSnapshot: store.getSnapshot,
    eventsSince: store.eventsSince,
    dashboardIds: store.dashboardIds,
    withPosition: (s) => s,
    maxSubscriptions: options.maxSubscriptions ?? 10,
    maxMessagesPerSecond: options.maxMessagesPerSecond ?? 1e9,
    softLimitBytes: options.softLimitBytes ?? 1000,
  });
  t.after(() => hub.close());
  const connect: Rig['connect'] = () => {
    const conn = new FakeConnection();
    const handlers = hub.open(conn, { mayWatchAll: true });
    return { conn, send: (m) => handlers.onMessage(JSON.stringify(m)), drain: () => handlers.onDrain(), close: () => handlers.onClose() };
  };
  return { hub, store, errors, connect };
}

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

// What a message costs is bounded by what the client can receive (SPEC 7).

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
