// The Redis feed: one stream (`PREFIX feed`) carries every event, put there by the
// append script itself, and every notice, all in one order. Each process reads it on a
// connection of its own and rebuilds the snapshot after each event by folding it onto
// what it holds of that job (a bounded cache), reading the store on a gap or a miss.
//
// Missed entries are noticed, never silent. The stream is trimmed to about `feedLength`
// entries; every script that adds an entry also counts it, so "added - length" is how
// many were ever trimmed, read in the same atomic step as the entries themselves. A
// reader that has read fewer entries than were trimmed has missed some: it emits
// `resync` (its process's subscribers get fresh snapshots) and goes on from the oldest
// entry left. A stream that went back (Redis restored from an older copy, or lost it)
// makes it start again from the end, with a resync too.

import { EventEmitter } from 'node:events';
import type { Feed, FeedEventName, FeedListener, FeedNotice } from '../feed/feed.js';
import type { Logger } from '../logger.js';
import { applyEvent } from '../protocol/reducer.js';
import { isFinalStatus, type JobEvent, type Snapshot } from '../protocol/types.js';
import { guarded, type RedisClient } from './client.js';
import { jobSnapshots } from './snapshot-cache.js';

/** Entries read per step: enough to catch up quickly, few enough to keep each step short. */
const READ_BATCH = 500;
/** How long one blocking wait for new entries lasts before it is simply made again. */
const BLOCK_MS = 2000;
/** After a failed read (Redis unreachable), the next try waits this long at most. */
const MAX_BACKOFF_MS = 1000;

const NOTICE_KINDS = { cancel: 'c', deleted: 'd', queueMoved: 'q' } as const;

export interface RedisFeedOptions {
  /** --redis-prefix. */
  prefix: string;
  /** Entries the stream keeps (approximately). */
  feedLength: number;
  /** The store's snapshot right after event `seq`, or its latest one, or null (RedisStore.snapshotAt). */
  snapshotAt(id: string, seq: number): Promise<Snapshot | null>;
  logger: Logger;
  /** Jobs whose snapshots this process keeps to fold the next event onto (default 1000). */
  cachedJobs?: number;
}

export class RedisFeed implements Feed {
  readonly #emitter = new EventEmitter();
  readonly #snapshots: ReturnType<typeof jobSnapshots<Snapshot>>;
  /** Snapshots read from the store ahead of the stream: the events up to theirs are skipped (a snapshot replaces them). */
  readonly #ahead: ReturnType<typeof jobSnapshots<Snapshot>>;
  /** Where the reader is: the id of the last entry read, and how many entries were added up to it. */
  #position: { lastId: string; read: number } | null = null;
  #isClosed = false;
  #loop: Promise<void> | null = null;
  #paused: { resume: Promise<void>; release(): void } | null = null;
  #step: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: RedisClient,
    private readonly reader: RedisClient,
    private readonly opts: RedisFeedOptions,
  ) {
    this.#emitter.setMaxListeners(0);
    this.#snapshots = jobSnapshots<Snapshot>(opts.cachedJobs ?? 1000);
    this.#ahead = jobSnapshots<Snapshot>(opts.cachedJobs ?? 1000);
  }

  /** Starts reading from the end of the stream: what is already there is history, not news. */
  async start(): Promise<void> {
    this.#position = await this.#tail();
    this.#loop = this.#readLoop();
  }

  /** The append script put the event on the stream: every process, this one included, hears it from there. */
  publishEvent(): void {}

  async publish(notice: FeedNotice): Promise<void> {
    if (this.#isClosed) return;
    const job = notice.kind === 'queueMoved' ? '' : notice.job;
    await guarded(() => this.client.run('jcFeedPublish', this.opts.prefix, this.opts.feedLength, NOTICE_KINDS[notice.kind], job));
  }

  on<K extends FeedEventName>(name: K, listener: FeedListener<K>): void {
    this.#emitter.on(name, listener as (...args: unknown[]) => void);
  }

  off<K extends FeedEventName>(name: K, listener: FeedListener<K>): void {
    this.#emitter.off(name, listener as (...args: unknown[]) => void);
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#emitter.removeAllListeners();
    this.#paused?.release();
    this.reader.redis.disconnect();
    // With Redis up, the read under way ends at once ("Connection is closed") and the loop
    // with it. With Redis away, that read waits in ioredis's offline queue, which a
    // disconnect while reconnecting never settles: waiting for the loop would hold a
    // shutdown for ever. The loop is left to end with the process then.
    if (this.reader.redis.status !== 'reconnecting') await this.#loop;
  }

  /**
   * Stops reading until the returned function is called (tests: a reader cut off while
   * entries come and go). Resolves once no step is under way.
   */
  async pauseReading(): Promise<() => void> {
    let release = (): void => undefined;
    const resume = new Promise<void>((resolve) => (release = resolve));
    this.#paused = { resume, release };
    await this.#step;
    return () => {
      this.#paused = null;
      release();
    };
  }

  async #tail(): Promise<{ lastId: string; read: number }> {
    const [added, lastId] = (await this.reader.run('jcFeedTail', this.opts.prefix)) as [number, string];
    return { lastId, read: Number(added) };
  }

  async #readLoop(): Promise<void> {
    let failures = 0;
    while (!this.#isClosed) {
      if (this.#paused !== null) await this.#paused.resume;
      if (this.#isClosed) return;
      try {
        let done!: () => void;
        this.#step = new Promise((resolve) => (done = resolve));
        const hasMore = await this.#readStep().finally(done);
        failures = 0;
        if (!hasMore) await this.#waitForEntries();
      } catch (err) {
        if (this.#isClosed) return;
        failures++;
        if (failures === 1) this.opts.logger.warn({ err }, 'the feed cannot be read from Redis; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_BACKOFF_MS, 50 * 2 ** failures)));
      }
    }
  }

  /** Reads and delivers one batch; true when more may be waiting. */
  async #readStep(): Promise<boolean> {
    if (this.#position === null) this.#position = await this.#tail();
    const position = this.#position;
    const [addedReply, lengthReply, entries] = (await this.reader.run('jcFeedRead', this.opts.prefix, position.lastId, READ_BATCH)) as [
      number,
      number,
      Array<[string, string[]]>,
    ];
    const added = Number(addedReply);
    const trimmed = added - Number(lengthReply);
    if (added < position.read) {
      this.opts.logger.warn({ added, read: position.read }, 'the feed stream went back (Redis lost or restored data): starting again from its end');
      this.#position = null;
      this.#resync();
      return true;
    }
    if (trimmed > position.read) {
      this.opts.logger.warn({ missed: trimmed - position.read }, 'this process fell behind the feed and missed entries: its subscribers get fresh snapshots');
      position.read = trimmed;
      this.#resync();
    }
    for (const [id, fields] of entries) {
      await this.#deliver(fields);
      position.lastId = id;
      position.read++;
    }
    return entries.length === READ_BATCH;
  }

  async #waitForEntries(): Promise<void> {
    const position = this.#position;
    if (position === null) return;
    // Only a wake-up: the entries themselves are read with the trim count by the next step.
    await this.reader.redis.xread('COUNT', 1, 'BLOCK', BLOCK_MS, 'STREAMS', `${this.opts.prefix}feed`, position.lastId);
  }

  async #deliver(fields: string[]): Promise<void> {
    const entry = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) entry.set(fields[i]!, fields[i + 1]!);
    const job = entry.get('j') ?? '';
    switch (entry.get('k')) {
      case 'e': {
        const event = JSON.parse(entry.get('v')!) as JobEvent;
        const snapshot = await this.#snapshotAfter(event);
        if (snapshot !== null) this.#emit('event', event, snapshot);
        return;
      }
      case 'c':
        return this.#emit('cancel', job);
      case 'd':
        this.#snapshots.delete(job);
        return this.#emit('deleted', job);
      case 'q':
        return this.#emit('queueMoved');
    }
  }

  /**
   * The snapshot right after `event`: folded onto the one held for its job, or read from
   * the store. Null when the event is not to be delivered: one already covered, one of a
   * job deleted since, or one that a snapshot read ahead of the stream replaces (the
   * event at that snapshot's seq is delivered with it, so listeners see a jump they
   * bridge with the snapshot, SPEC 3.2).
   */
  async #snapshotAfter(event: JobEvent): Promise<Snapshot | null> {
    const ahead = this.#ahead.get(event.job);
    if (ahead !== undefined) {
      if (event.seq < ahead.seq) return null;
      this.#ahead.delete(event.job);
      if (event.seq === ahead.seq) return this.#remember(ahead);
    }
    if (event.name === 'job.queued') return this.#remember(applyEvent(null, event));
    const held = this.#snapshots.get(event.job);
    if (held !== undefined && held.seq === event.seq - 1) return this.#remember(applyEvent(held, event));
    if (held !== undefined && event.seq <= held.seq) return null;
    const stored = await this.opts.snapshotAt(event.job, event.seq);
    if (stored === null || stored.seq < event.seq) return null;
    if (stored.seq > event.seq) {
      this.#ahead.set(event.job, stored);
      return null;
    }
    return this.#remember(stored);
  }

  #remember(snapshot: Snapshot): Snapshot {
    // A finished job has no next event to fold.
    if (isFinalStatus(snapshot.status)) this.#snapshots.delete(snapshot.id);
    else this.#snapshots.set(snapshot.id, snapshot);
    return snapshot;
  }

  #resync(): void {
    this.#snapshots.clear();
    this.#ahead.clear();
    this.#emit('resync');
  }

  /** Listeners must not throw; one that does is logged, and the others still hear the entry. */
  #emit(name: FeedEventName, ...args: unknown[]): void {
    for (const listener of this.#emitter.listeners(name)) {
      try {
        (listener as (...a: unknown[]) => void)(...args);
      } catch (err) {
        this.opts.logger.error({ err, name }, 'a feed listener threw');
      }
    }
  }
}
