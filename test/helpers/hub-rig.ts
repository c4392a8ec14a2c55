// A hub on an in-memory connection and a store whose answers the test releases by hand,
// for the hub's unit tests (hub-unit.test.ts, hub-limits-unit.test.ts). The store folds
// jobs with the real reducer; every read answers only when the test says so, with what
// the store held when it was asked.

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { TestContext } from 'node:test';
import { JobcastError } from '../../server/errors.js';
import type { Frame } from '../../server/hub/frame.js';
import { Hub } from '../../server/hub/hub.js';
import type { Feed, FeedEventName, FeedListener, FeedNotice } from '../../server/feed/feed.js';
import type { Logger } from '../../server/logger.js';
import { applyEvent } from '../../server/protocol/reducer.js';
import type { EventDataMap, EventName, JobEvent, PositionMessage, ServerMessage, Snapshot } from '../../server/protocol/types.js';
import type { Connection } from '../../server/transport/connection.js';

export type Kind = 'getSnapshot' | 'eventsSince' | 'dashboardIds';

/** A read the store has made but not answered yet: the value is what the store held when asked. */
interface Call {
  kind: Kind;
  job: string | null;
  settle(): void;
  fail(err: Error): void;
}

/** A feed the test can make lose entries and then announce the loss, as a feed between processes does. */
export class TestFeed implements Feed {
  /** While true, appended events are lost on the way to the hub. */
  isLosing = false;
  private readonly emitter = new EventEmitter();

  publishEvent({ event, snapshot }: { event: JobEvent; snapshot: Snapshot }): void {
    if (!this.isLosing) this.emitter.emit('event', event, snapshot);
  }

  async publish(notice: FeedNotice): Promise<void> {
    this.emitter.emit(notice.kind, ...('job' in notice ? [notice.job] : []));
  }

  on<K extends FeedEventName>(name: K, listener: FeedListener<K>): void {
    this.emitter.on(name, listener as (...args: unknown[]) => void);
  }

  off<K extends FeedEventName>(name: K, listener: FeedListener<K>): void {
    this.emitter.off(name, listener as (...args: unknown[]) => void);
  }

  resync(): void {
    this.emitter.emit('resync');
  }

  async close(): Promise<void> {}
}

/** Jobs folded with the real reducer; every read answers only when the test says so. */
export class FakeStore {
  private readonly jobs = new Map<string, { snapshot: Snapshot; events: JobEvent[]; position: number | null }>();
  private readonly calls: Call[] = [];
  /** Reads made so far, by kind. */
  readonly reads: Record<Kind, number> = { getSnapshot: 0, eventsSince: 0, dashboardIds: 0 };

  constructor(
    readonly feed: TestFeed,
    readonly positions: EventEmitter<{ position: [PositionMessage] }>,
  ) {}

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
    this.feed.publishEvent({ event, snapshot: entry.snapshot });
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
    this.positions.emit('position', { type: 'position', job, position });
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
export function settled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A connection that keeps what it is sent; its buffer is whatever the test says. */
export class FakeConnection implements Connection {
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

export interface Rig {
  hub: Hub;
  store: FakeStore;
  feed: TestFeed;
  errors: unknown[];
  /** A new connection with its handlers; `send` delivers one client message. */
  connect(): { conn: FakeConnection; send(message: object): void; drain(): void; close(): void };
}

export function rig(t: TestContext, options: { maxSubscriptions?: number; softLimitBytes?: number; maxMessagesPerSecond?: number } = {}): Rig {
  const store = new FakeStore(new TestFeed(), new EventEmitter());
  const errors: unknown[] = [];
  const logger = { error: (obj: { err: unknown }) => errors.push(obj.err), info() {}, debug() {}, warn() {} } as unknown as Logger;
  const hub = new Hub({
    feed: store.feed,
    positions: store.positions,
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
  return { hub, store, feed: store.feed, errors, connect };
}
