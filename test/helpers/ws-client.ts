// A small WebSocket test client on the `ws` package: it records every message, folds
// events and snapshots per job with the shared reducer, counts seq gaps and duplicates,
// and lets tests await messages (`next`) instead of sleeping.

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import WebSocket from 'ws';
import { applyEvent } from '../../server/protocol/reducer.js';
import type { JobEvent, ServerMessage, Snapshot } from '../../server/protocol/types.js';
import { HANG_MS } from './patience.js';

export type Message = ServerMessage;
export type Subscribed = Extract<Message, { type: 'subscribed' }>;
export type ErrorMessage = Extract<Message, { type: 'error' }>;

/** What one client (or a series of clients resuming each other) knows about one job. */
export class JobView {
  /** The folded view; null until a snapshot or `job.queued` arrives. */
  snapshot: Snapshot | null = null;
  /** Seq of the last event or snapshot applied; 0 before any. */
  lastSeq = 0;
  /** Seq of every event received, in arrival order. */
  readonly eventSeqs: number[] = [];
  /** Events whose seq was not lastSeq + 1 (`expected->got`) while a view existed. */
  readonly gaps: string[] = [];
  /** Events received at or below lastSeq. */
  readonly duplicates: number[] = [];
  snapshots = 0;
  positions: number[] = [];

  applySnapshot(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.lastSeq = snapshot.seq;
    this.snapshots++;
  }

  applyEvent(event: JobEvent): void {
    this.eventSeqs.push(event.seq);
    if (event.seq <= this.lastSeq) return void this.duplicates.push(event.seq);
    if (event.seq !== this.lastSeq + 1) this.gaps.push(`${this.lastSeq + 1}->${event.seq}`);
    // Without a base (a resume that starts mid-job) there is nothing to fold onto.
    if (this.snapshot !== null || event.name === 'job.queued') this.snapshot = applyEvent(this.snapshot, event);
    this.lastSeq = event.seq;
  }

  applyPosition(position: number): void {
    this.positions.push(position);
    if (this.snapshot !== null) this.snapshot = { ...this.snapshot, queuePosition: position };
  }

  get isFinal(): boolean {
    const status = this.snapshot?.status;
    return status === 'completed' || status === 'failed' || status === 'cancelled';
  }
}

/** Views by job; one tracker may be handed from a dropped connection to the next. */
export class Tracker {
  readonly views = new Map<string, JobView>();

  view(job: string): JobView {
    let view = this.views.get(job);
    if (view === undefined) this.views.set(job, (view = new JobView()));
    return view;
  }

  apply(message: Message): void {
    if (message.type === 'snapshot') this.view(message.job.id).applySnapshot(message.job);
    else if (message.type === 'event') this.view(message.job).applyEvent(message);
    else if (message.type === 'position') this.view(message.job).applyPosition(message.position);
  }
}

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface ConnectOptions {
  /** Query string appended to /ws, e.g. `?token=x`. */
  query?: string;
  headers?: Record<string, string>;
  /** ws answers pings by itself unless this is false. */
  autoPong?: boolean;
  /** Continue the views of an earlier connection (resume after a drop). */
  tracker?: Tracker;
}

type Predicate = (message: Message) => boolean;

export class WsClient {
  readonly tracker: Tracker;
  /** Every message received, in order. */
  readonly received: Message[] = [];
  /** Date.now() at the arrival of each message of `received`. */
  readonly receivedAt: number[] = [];
  /** The folded lastSeq of the message's job right after each message of `received` (null for none). */
  private readonly lastSeqAfter: Array<number | null> = [];
  /** Resolves once the connection is closed, with the close code the client saw. */
  readonly closed: Promise<CloseInfo>;
  closeInfo: CloseInfo | null = null;
  private readonly queue: Message[] = [];
  private waiter: { predicate: Predicate; resolve(m: Message): void; reject(err: Error): void } | null = null;

  constructor(readonly ws: WebSocket, tracker: Tracker) {
    this.tracker = tracker;
    ws.on('message', (data, isBinary) => this.wsOnMessage(data.toString(), isBinary));
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.waiter?.reject(new Error(`connection closed (${code} ${reason.toString()}) while waiting for a message`));
        this.waiter = null;
        resolve(this.closeInfo);
      });
    });
    // Errors end in 'close' with a code (1006 for a reset), which is what tests look at.
    ws.on('error', () => {});
  }

  /** Sends a JSON message (or raw text when given a string). */
  send(message: object | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /**
   * The next message matching `predicate` (any message by default); messages before it
   * that do not match are dropped from the queue (they are still in `received` and folded).
   */
  next(predicate: Predicate = () => true, timeoutMs = HANG_MS, what = 'a message'): Promise<Message> {
    if (this.waiter !== null) return Promise.reject(new Error('next() is already waiting'));
    while (this.queue.length > 0) {
      const message = this.queue.shift()!;
      if (predicate(message)) return Promise.resolve(message);
    }
    if (this.closeInfo !== null) return Promise.reject(new Error(`connection closed (${this.closeInfo.code}) before ${what}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no ${what} within ${timeoutMs} ms; last received: ${JSON.stringify(this.received.slice(-3)).slice(0, 600)}`));
      }, timeoutMs);
      this.waiter = {
        predicate,
        resolve: (m) => (clearTimeout(timer), resolve(m)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      };
    });
  }

  /** The next message of `type` (for `job` when given). */
  nextOf<T extends Message['type']>(type: T, job?: string, timeoutMs = HANG_MS): Promise<Extract<Message, { type: T }>> {
    const isJob = (m: Message) => job === undefined || jobOf(m) === job;
    return this.next((m) => m.type === type && isJob(m), timeoutMs, `${type}${job === undefined ? '' : ` for ${job}`}`) as Promise<
      Extract<Message, { type: T }>
    >;
  }

  /** Sends subscribe and resolves with `subscribed` (or the `error`) for that job. */
  async subscribe(job: string, since?: number, timeoutMs = HANG_MS): Promise<Subscribed | ErrorMessage> {
    this.send({ op: 'subscribe', job, ...(since !== undefined && { since }) });
    const answer = await this.next((m) => (m.type === 'subscribed' || m.type === 'error') && m.job === job, timeoutMs, `subscribed for ${job}`);
    return answer as Subscribed | ErrorMessage;
  }

  /** The close code and reason once the connection is closed; rejects after `timeoutMs`. */
  waitClosed(timeoutMs = HANG_MS): Promise<CloseInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the connection was not closed within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.closed, timeout]).finally(() => clearTimeout(timer));
  }

  /** Resolves once the view of `job` has folded a final status (the job ended). */
  async untilFinal(job: string, timeoutMs = HANG_MS): Promise<JobView> {
    const view = this.tracker.view(job);
    if (!view.isFinal) await this.next(() => this.tracker.view(job).isFinal, timeoutMs, `the end of job ${job}`);
    return view;
  }

  /** Sends a ping message and waits for its pong: every frame the server sent before is in by then. */
  async roundTrip(timeoutMs = HANG_MS): Promise<void> {
    this.send({ op: 'ping' });
    await this.next((m) => m.type === 'pong', timeoutMs, 'pong');
  }

  /**
   * The last seq this client had folded for the message's job when `message` arrived
   * (later messages of the same chunk may already be folded by the time a test looks).
   */
  lastSeqAt(message: Message): number | null {
    const index = this.received.lastIndexOf(message);
    if (index === -1) throw new Error('not a message this client received');
    return this.lastSeqAfter[index]!;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  private wsOnMessage(text: string, isBinary: boolean): void {
    if (isBinary) throw new Error('the server sent a binary frame');
    const message = JSON.parse(text) as Message;
    this.received.push(message);
    this.receivedAt.push(Date.now());
    this.tracker.apply(message);
    const job = jobOf(message);
    this.lastSeqAfter.push(job === undefined ? null : this.tracker.view(job).lastSeq);
    const waiter = this.waiter;
    if (waiter !== null && waiter.predicate(message)) {
      this.waiter = null;
      // Messages queued before this one did not match: the waiter skips them.
      this.queue.length = 0;
      waiter.resolve(message);
      return;
    }
    if (waiter === null) this.queue.push(message);
  }
}

/** The job id a message is about, if any. */
export function jobOf(message: Message): string | undefined {
  if (message.type === 'snapshot') return message.job.id;
  return 'job' in message && typeof message.job === 'string' ? message.job : undefined;
}

/** Opens `ws://.../ws` and resolves once open; closed (terminated) after the test. */
export async function connectWs(t: TestContext, baseUrl: string, options: ConnectOptions = {}): Promise<WsClient> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/ws${options.query ?? ''}`;
  const ws = new WebSocket(url, { headers: options.headers, autoPong: options.autoPong ?? true, perMessageDeflate: false });
  const client = new WsClient(ws, options.tracker ?? new Tracker());
  t.after(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return client;
}

/** Waits until `condition()` holds, checking every few ms, or fails after `timeoutMs` (a hang). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = HANG_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Asserts-by-message helper: the seqs 1..last each appear exactly once in `seqs`. */
export function checkExactlyOnce(seqs: readonly number[], last: number): string | null {
  const counts = new Map<number, number>();
  for (const seq of seqs) counts.set(seq, (counts.get(seq) ?? 0) + 1);
  const missing: number[] = [];
  const repeated: number[] = [];
  for (let seq = 1; seq <= last; seq++) {
    const n = counts.get(seq) ?? 0;
    if (n === 0) missing.push(seq);
    if (n > 1) repeated.push(seq);
  }
  const extra = [...counts.keys()].filter((seq) => seq < 1 || seq > last);
  if (missing.length + repeated.length + extra.length === 0) return null;
  return `missing ${JSON.stringify(missing)}, repeated ${JSON.stringify(repeated)}, out of range ${JSON.stringify(extra)}`;
}

/**
 * Every event of `job` from seq 1, as the server's log holds it, read over a new
 * WebSocket with `since: 0` (and whatever arrives live before the answer is read):
 * what tests read instead of reaching into the store. Fails when the log no longer covers seq 1.
 */
export async function eventLog(t: TestContext, baseUrl: string, job: string): Promise<JobEvent[]> {
  const client = await connectWs(t, baseUrl);
  const answer = await client.subscribe(job, 0);
  assert.equal(answer.type === 'subscribed' && answer.mode, 'resume', `the log of ${job} still covers seq 1: ${JSON.stringify(answer)}`);
  const events = client.received.filter((m): m is JobEvent => m.type === 'event' && m.job === job);
  client.ws.close();
  return events;
}
