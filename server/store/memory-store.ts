// The memory store: the reference implementation of the Store contract, with nothing
// durable. A restart forgets every job, and clients holding an id then get job_not_found
// (SPEC 3.2 "Why no epoch").

import { applyEvent } from '../protocol/reducer.js';
import { searchTextMatches, searchTextOf } from '../protocol/search.js';
import { isFinalStatus, type JobEvent, type JobStatus, type NewEvent, type Snapshot } from '../protocol/types.js';
import { Epochs } from './epochs.js';
import type { AppendOptions, Appended, Fence, ListPage, ListQuery, Store, StoreOptions } from './store.js';
import {
  checkAppendable,
  checkListQuery,
  checkStoreOptions,
  closedError,
  duplicateJob,
  emptyCounts,
  finishedError,
  jobNotFound,
  storedEvent,
} from './store-checks.js';

interface MemoryJob {
  /** Creation number: orders jobs and makes list cursors. */
  n: number;
  snapshot: Snapshot;
  /** The last `logSize` events, oldest first, gapless. */
  log: JobEvent[];
  /** What `q` is looked for in (id, label and file names never change after job.queued). */
  searchText: string;
}

class MemoryStore implements Store {
  readonly #logSize: number;
  /** Map order is insertion order, which is creation order. */
  readonly #jobs = new Map<string, MemoryJob>();
  readonly #epochs = new Epochs();
  #nextN = 1;
  #closing: Promise<void> | null = null;

  constructor(options: StoreOptions) {
    this.#logSize = options.logSize;
  }

  async createJob(id: string, queued: Extract<NewEvent, { name: 'job.queued' }>): Promise<Appended> {
    this.#checkOpen();
    if (queued.name !== 'job.queued') throw new TypeError('a job starts with job.queued');
    if (this.#jobs.has(id)) throw duplicateJob(id);
    const { event } = storedEvent(id, 1, queued);
    const snapshot = applyEvent(null, event);
    this.#jobs.set(id, { n: this.#nextN++, snapshot, log: [event], searchText: searchTextOf(snapshot) });
    return { event, snapshot };
  }

  async append(id: string, newEvent: NewEvent, options: AppendOptions = {}): Promise<Appended> {
    this.#checkOpen();
    checkAppendable(newEvent);
    const job = this.#jobs.get(id);
    if (job === undefined) throw jobNotFound(id);
    // Checked and written without an await between: nothing can slip in.
    this.#epochs.check(id, options.fence);
    if (isFinalStatus(job.snapshot.status)) throw finishedError(id);
    const { event } = storedEvent(id, job.snapshot.seq + 1, newEvent);
    const snapshot = applyEvent(job.snapshot, event);
    job.snapshot = snapshot;
    job.log.push(event);
    // V8 trims the front of a packed array in place, so this stays cheap at logSize 1000.
    while (job.log.length > this.#logSize) job.log.shift();
    this.#epochs.appended(id, options.fence, isFinalStatus(snapshot.status));
    return { event, snapshot };
  }

  async issueFence(id: string): Promise<Fence> {
    this.#checkOpen();
    if (!this.#jobs.has(id)) throw jobNotFound(id);
    return this.#epochs.issue(id);
  }

  async getSnapshot(id: string): Promise<Snapshot | null> {
    this.#checkOpen();
    return this.#jobs.get(id)?.snapshot ?? null;
  }

  async eventsSince(id: string, since: number): Promise<JobEvent[] | null> {
    this.#checkOpen();
    const job = this.#jobs.get(id);
    if (job === undefined || !Number.isSafeInteger(since) || since < 0 || since > job.snapshot.seq) return null;
    const oldest = job.log[0]?.seq ?? job.snapshot.seq + 1;
    if (oldest > since + 1) return null;
    return job.log.slice(since + 1 - oldest);
  }

  async list(query: ListQuery): Promise<ListPage> {
    this.#checkOpen();
    const { before, search } = checkListQuery(query);
    const jobs: MemoryJob[] = [];
    let hasMore = false;
    // A linear scan per page: fine for the memory store, which is for tests and demos.
    for (const job of [...this.#jobs.values()].reverse()) {
      if (job.n >= before || (query.status !== undefined && job.snapshot.status !== query.status)) continue;
      if (!searchTextMatches(job.searchText, search)) continue;
      if (jobs.length === query.limit) {
        hasMore = true;
        break;
      }
      jobs.push(job);
    }
    const last = jobs[jobs.length - 1];
    return { jobs: jobs.map((job) => job.snapshot), next: hasMore && last !== undefined ? String(last.n) : null };
  }

  async idsByStatus(statuses: readonly JobStatus[]): Promise<string[]> {
    this.#checkOpen();
    const ids: string[] = [];
    for (const [id, job] of this.#jobs) if (statuses.includes(job.snapshot.status)) ids.push(id);
    return ids;
  }

  async countByStatus(): Promise<Record<JobStatus, number>> {
    this.#checkOpen();
    const counts = emptyCounts();
    for (const job of this.#jobs.values()) counts[job.snapshot.status]++;
    return counts;
  }

  async recentlyFinished(limit: number): Promise<string[]> {
    this.#checkOpen();
    const finished: Array<{ id: string; at: number; n: number }> = [];
    for (const [id, { snapshot, n }] of this.#jobs) {
      if (isFinalStatus(snapshot.status) && snapshot.finishedAt !== null) finished.push({ id, at: snapshot.finishedAt, n });
    }
    finished.sort((a, b) => b.at - a.at || b.n - a.n);
    return finished.slice(0, Math.max(0, Math.floor(limit))).map((f) => f.id);
  }

  async finishedBefore(ts: number, limit: number): Promise<string[]> {
    this.#checkOpen();
    const finished: Array<{ id: string; at: number }> = [];
    for (const [id, { snapshot }] of this.#jobs) {
      const at = snapshot.finishedAt;
      if (isFinalStatus(snapshot.status) && at !== null && at < ts) finished.push({ id, at });
    }
    finished.sort((a, b) => a.at - b.at);
    return finished.slice(0, Math.max(0, limit)).map((f) => f.id);
  }

  async delete(id: string): Promise<boolean> {
    this.#checkOpen();
    this.#epochs.forget(id);
    return this.#jobs.delete(id);
  }

  async ping(): Promise<void> {
    this.#checkOpen();
  }

  close(): Promise<void> {
    this.#closing ??= Promise.resolve().then(() => {
      this.#jobs.clear();
      this.#epochs.clear();
    });
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#closing !== null) throw closedError();
  }
}

/**
 * A store that keeps jobs and the last `options.logSize` events of each in memory.
 * Throws ConfigError for an invalid `logSize`.
 */
export function createMemoryStore(options: StoreOptions): Store {
  checkStoreOptions(options);
  return new MemoryStore(options);
}
