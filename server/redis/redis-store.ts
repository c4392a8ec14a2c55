// The Redis store: job records and logs shared by every process (SPEC 6). Like the
// SQLite store, a snapshot is fold(base, events after baseSeq), the base rewritten at
// job-level transitions and every min(100, logSize) events. An append folds the event
// here, from the snapshot at the seq it names, and one script (job-scripts.ts APPEND)
// checks the fence, the job's state and that seq, then writes, trims, indexes and puts
// the event on the feed. When another process appended meanwhile the script answers
// 'conflict' and the append reloads and folds again.

import { randomBytes } from 'node:crypto';
import { JobcastError } from '../errors.js';
import { applyEvent } from '../protocol/reducer.js';
import { searchTextOf } from '../protocol/search.js';
import { isFinalStatus, JOB_STATUSES, type JobEvent, type JobStatus, type NewEvent, type Snapshot } from '../protocol/types.js';
import {
  checkAppendable,
  checkListQuery,
  checkStoreOptions,
  closedError,
  duplicateJob,
  emptyCounts,
  fencedError,
  finishedError,
  jobNotFound,
  storedEvent,
} from '../store/store-checks.js';
import type { AppendOptions, Appended, Fence, ListPage, ListQuery, Store, StoreOptions } from '../store/store.js';
import { guarded, type RedisClient } from './client.js';
import { jobSnapshots } from './snapshot-cache.js';

/** Rewrite the base at least this often (in events), so a cold read folds at most this many minus one. */
const MAX_EVENTS_AFTER_BASE = 100;
/** Appends retried after a conflict with another process's append before giving up (a bug or a storm). */
const MAX_CONFLICTS = 20;
/** Jobs a search looks at per script call. */
const SEARCH_BUDGET = 5000;

export interface RedisStoreOptions extends StoreOptions {
  /** --redis-prefix: every key starts with it. */
  prefix: string;
  /** Entries the feed stream keeps (approximately). */
  feedLength: number;
  /** Snapshots kept in memory, least recently used dropped first (default 256). */
  cachedJobs?: number;
  /** Closes the connection with the store (false when the backend shares it). Default true. */
  ownsClient?: boolean;
}

/** What LOAD returned, folded. */
interface Loaded {
  snapshot: Snapshot;
  baseSeq: number;
}

export class RedisStore implements Store {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #logSize: number;
  readonly #rebaseEvery: number;
  readonly #feedLength: number;
  readonly #ownsClient: boolean;
  /** This process's latest knowledge of jobs; every write checks it against Redis. */
  readonly #hot: ReturnType<typeof jobSnapshots<Loaded>>;
  /** Per job, the appends in progress: they go out one after another, in call order. */
  readonly #lines = new Map<string, { pending: number; tail: Promise<unknown> }>();
  readonly #noncePrefix = randomBytes(6).toString('hex');
  #nonces = 0;
  #closing: Promise<void> | null = null;

  constructor(client: RedisClient, options: RedisStoreOptions) {
    checkStoreOptions(options);
    this.#client = client;
    this.#prefix = options.prefix;
    this.#logSize = options.logSize;
    this.#rebaseEvery = Math.min(MAX_EVENTS_AFTER_BASE, options.logSize);
    this.#feedLength = options.feedLength;
    this.#ownsClient = options.ownsClient ?? true;
    this.#hot = jobSnapshots<Loaded>(options.cachedJobs ?? 256);
  }

  async createJob(id: string, queued: Extract<NewEvent, { name: 'job.queued' }>): Promise<Appended> {
    this.#checkOpen();
    if (queued.name !== 'job.queued') throw new TypeError('a job starts with job.queued');
    const { event } = storedEvent(id, 1, queued);
    const snapshot = applyEvent(null, event);
    const reply = (await guarded(() =>
      this.#client.run('jcCreate', this.#prefix, id, JSON.stringify(event), JSON.stringify(snapshot), searchTextOf(snapshot), event.ts, this.#nonce(), this.#feedLength),
    )) as [string, number?];
    if (reply[0] !== 'ok') throw duplicateJob(id);
    this.#hot.set(id, { snapshot, baseSeq: 1 });
    return { event, snapshot };
  }

  append(id: string, newEvent: NewEvent, options: AppendOptions = {}): Promise<Appended> {
    try {
      this.#checkOpen();
      checkAppendable(newEvent);
    } catch (err) {
      return Promise.reject(err);
    }
    // With nothing ahead of it, the append is sent before this call returns, so that
    // calls made one after another reach Redis in that order (a claim between two
    // appends of an owner fences the second one, not the first).
    const line = this.#lines.get(id) ?? { pending: 0, tail: Promise.resolve() as Promise<unknown> };
    this.#lines.set(id, line);
    const isFirst = line.pending === 0;
    line.pending++;
    const appendInLine = async (): Promise<Appended> => {
      try {
        return await this.#appendNow(id, newEvent, options);
      } finally {
        // Before the caller hears the outcome: its next append then goes out at once.
        if (--line.pending === 0 && this.#lines.get(id) === line) this.#lines.delete(id);
      }
    };
    const run = isFirst ? appendInLine() : line.tail.then(appendInLine);
    line.tail = run.catch(() => undefined);
    return run;
  }

  async #appendNow(id: string, newEvent: NewEvent, options: AppendOptions): Promise<Appended> {
    const fence = options.fence === undefined ? '' : String(options.fence);
    const nonce = this.#nonce();
    for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
      const hot = this.#hot.get(id) ?? (await this.#load(id, null));
      if (hot === null) throw jobNotFound(id);
      const { event } = storedEvent(id, hot.snapshot.seq + 1, newEvent);
      const snapshot = applyEvent(hot.snapshot, event);
      const isFinal = isFinalStatus(snapshot.status);
      // `>=`: after a restart with a smaller --log-size the base may already be further back.
      const rebase = event.name.startsWith('job.') || event.seq - hot.baseSeq >= this.#rebaseEvery;
      const reply = (await guarded(() =>
        this.#client.run(
          'jcAppend', this.#prefix, id, fence, hot.snapshot.seq, JSON.stringify(event), nonce, this.#logSize,
          rebase ? JSON.stringify(snapshot) : '', snapshot.status, isFinal && snapshot.finishedAt !== null ? snapshot.finishedAt : '',
          isFinal ? '1' : '0', this.#feedLength,
        ),
      )) as [string, number?];
      switch (reply[0]) {
        case 'ok':
          if (isFinal) this.#hot.delete(id);
          else this.#hot.set(id, { snapshot, baseSeq: rebase ? event.seq : hot.baseSeq });
          return { event, snapshot };
        case 'conflict':
          // Another process appended meanwhile: what this process knew of the job is stale.
          this.#hot.delete(id);
          continue;
        case 'fenced':
          throw fencedError(id);
        case 'finished':
          this.#hot.delete(id);
          throw finishedError(id);
        default:
          this.#hot.delete(id);
          throw jobNotFound(id);
      }
    }
    throw new JobcastError('internal_error', `job '${id}': ${MAX_CONFLICTS} appends in a row met another process's append`);
  }

  async issueFence(id: string): Promise<Fence> {
    this.#checkOpen();
    const epoch = await guarded(() => this.#client.run('jcFence', this.#prefix, id));
    if (epoch === null) throw jobNotFound(id);
    return Number(epoch);
  }

  async getSnapshot(id: string): Promise<Snapshot | null> {
    this.#checkOpen();
    return (await this.#load(id, this.#hot.get(id) ?? null))?.snapshot ?? null;
  }

  /**
   * The snapshot right after event `seq` when the base and the log can still give it,
   * else the job's latest snapshot (its seq tells which); null for an unknown job. For
   * the feed, which rebuilds the snapshot after each event it reads.
   */
  async snapshotAt(id: string, seq: number): Promise<Snapshot | null> {
    this.#checkOpen();
    const parts = await this.#read(id, '');
    if (parts === null) return null;
    let snapshot = JSON.parse(parts.base) as Snapshot;
    if (parts.baseSeq > seq) return this.#fold(id, snapshot, parts.events, parts.seq);
    for (const json of parts.events) {
      const event = JSON.parse(json) as JobEvent;
      if (event.seq > seq) break;
      snapshot = applyEvent(snapshot, event);
    }
    return snapshot;
  }

  async eventsSince(id: string, since: number): Promise<JobEvent[] | null> {
    this.#checkOpen();
    if (!Number.isSafeInteger(since) || since < 0) return null;
    const reply = (await guarded(() => this.#client.run('jcSince', this.#prefix, id, since))) as string[] | null;
    return reply === null ? null : reply.map((json) => JSON.parse(json) as JobEvent);
  }

  async list(query: ListQuery): Promise<ListPage> {
    this.#checkOpen();
    const { before, search } = checkListQuery(query);
    const index = this.#prefix + (query.status === undefined ? 'jobs' : `status:${query.status}`);
    // One job more than asked tells whether a next page exists.
    const found = search === '' ? await this.#newest(index, before, query.limit + 1) : await this.#search(index, before, query.limit + 1, search);
    const page = found.slice(0, query.limit);
    const snapshots = await Promise.all(page.map((entry) => this.getSnapshot(entry.id)));
    const last = page[page.length - 1];
    return {
      jobs: snapshots.filter((s): s is Snapshot => s !== null),
      next: found.length > query.limit && last !== undefined ? String(last.n) : null,
    };
  }

  async #newest(index: string, before: number, limit: number): Promise<Array<{ id: string; n: number }>> {
    const flat = await guarded(() => this.#client.redis.zrevrangebyscore(index, `(${before}`, '-inf', 'WITHSCORES', 'LIMIT', 0, limit));
    return pairs(flat);
  }

  async #search(index: string, before: number, limit: number, search: string): Promise<Array<{ id: string; n: number }>> {
    const found: Array<{ id: string; n: number }> = [];
    for (let from = String(before); from !== '' && found.length < limit; ) {
      const reply = (await guarded(() => this.#client.run('jcSearch', this.#prefix, index, from, limit - found.length, search, SEARCH_BUDGET))) as string[];
      found.push(...pairs(reply.slice(1)));
      from = reply[0]!;
    }
    return found;
  }

  async idsByStatus(statuses: readonly JobStatus[]): Promise<string[]> {
    this.#checkOpen();
    const all: Array<{ id: string; n: number }> = [];
    for (const status of new Set(statuses)) {
      all.push(...pairs(await guarded(() => this.#client.redis.zrange(`${this.#prefix}status:${status}`, 0, -1, 'WITHSCORES'))));
    }
    return all.sort((a, b) => a.n - b.n).map((entry) => entry.id);
  }

  async countByStatus(): Promise<Record<JobStatus, number>> {
    this.#checkOpen();
    const counts = emptyCounts();
    const sizes = await guarded(() => Promise.all(JOB_STATUSES.map((status) => this.#client.redis.zcard(`${this.#prefix}status:${status}`))));
    JOB_STATUSES.forEach((status, i) => (counts[status] = sizes[i]!));
    return counts;
  }

  async recentlyFinished(limit: number): Promise<string[]> {
    this.#checkOpen();
    const count = Math.max(0, Math.floor(limit));
    if (count === 0) return [];
    return guarded(() => this.#client.redis.zrevrange(`${this.#prefix}finished`, 0, count - 1));
  }

  async finishedBefore(ts: number, limit: number): Promise<string[]> {
    this.#checkOpen();
    const count = Math.max(0, Math.floor(limit));
    if (count === 0) return [];
    return guarded(() => this.#client.redis.zrangebyscore(`${this.#prefix}finished`, '-inf', `(${ts}`, 'LIMIT', 0, count));
  }

  async delete(id: string): Promise<boolean> {
    this.#checkOpen();
    this.#hot.delete(id);
    return (await guarded(() => this.#client.run('jcDelete', this.#prefix, id, this.#feedLength))) === 1;
  }

  async ping(): Promise<void> {
    this.#checkOpen();
    // Not queued behind a reconnect: /readyz and uploads must learn at once that Redis is away.
    if (!this.#client.isReady) throw new JobcastError('not_ready', `Redis is unreachable (${this.#client.redis.status})`);
    // A real write: a Redis out of memory, or refusing writes after a failed save, fails it.
    const stamp = String(Date.now());
    const key = `${this.#prefix}ping`;
    const [, read] = await guarded(() => Promise.all([this.#client.redis.set(key, stamp), this.#client.redis.get(key)]));
    if (read !== stamp) throw new JobcastError('not_ready', 'Redis read back a different value than it wrote');
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#hot.clear();
      if (this.#ownsClient) await this.#client.redis.quit().catch(() => this.#client.redis.disconnect());
    })();
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#closing !== null) throw closedError();
  }

  #nonce(): string {
    return `${this.#noncePrefix}${(this.#nonces++).toString(36)}`;
  }

  /** The job's snapshot from Redis (or `known`, when Redis says it is still current), cached while not final. */
  async #load(id: string, known: Loaded | null): Promise<Loaded | null> {
    const parts = await this.#read(id, known === null ? '' : String(known.snapshot.seq));
    if (parts === null) {
      this.#hot.delete(id);
      return null;
    }
    if (parts.unchanged && known !== null) return known;
    const loaded = { snapshot: this.#fold(id, JSON.parse(parts.base) as Snapshot, parts.events, parts.seq), baseSeq: parts.baseSeq };
    if (isFinalStatus(loaded.snapshot.status)) this.#hot.delete(id);
    else this.#hot.set(id, loaded);
    return loaded;
  }

  async #read(id: string, knownSeq: string): Promise<{ unchanged: boolean; seq: number; baseSeq: number; base: string; events: string[] } | null> {
    const reply = (await guarded(() => this.#client.run('jcLoad', this.#prefix, id, knownSeq))) as string[] | null;
    if (reply === null) return null;
    if (reply.length === 1) return { unchanged: true, seq: Number(reply[0]), baseSeq: 0, base: '', events: [] };
    return { unchanged: false, seq: Number(reply[0]), baseSeq: Number(reply[1]), base: reply[2]!, events: reply.slice(3) };
  }

  #fold(id: string, base: Snapshot, events: string[], seq: number): Snapshot {
    let snapshot = base;
    for (const json of events) snapshot = applyEvent(snapshot, JSON.parse(json) as JobEvent);
    if (snapshot.seq !== seq) throw new Error(`job ${id} is damaged in Redis: its log reaches seq ${snapshot.seq}, its record says ${seq}`);
    return snapshot;
  }
}

/** [id, score, id, score...] as entries. */
function pairs(flat: string[]): Array<{ id: string; n: number }> {
  const out: Array<{ id: string; n: number }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: flat[i]!, n: Number(flat[i + 1]) });
  return out;
}
