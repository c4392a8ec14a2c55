// The store interface: job records and their event logs. The HTTP, hub and job code
// see only this, so sqlite, memory and (later) Redis implementations are interchangeable.

import type { JobEvent, JobStatus, NewEvent, Snapshot } from '../protocol/types.js';

/** What an append returns: the event as stored (with its seq) and the snapshot after it. */
export interface Appended {
  event: JobEvent;
  snapshot: Snapshot;
}

export interface ListQuery {
  /** Only jobs in this status; all when absent. */
  status?: JobStatus;
  /** 1..500. */
  limit: number;
  /** The `next` of a previous page; absent for the first page. */
  cursor?: string;
}

export interface ListPage {
  /** Newest first. */
  jobs: Snapshot[];
  /** Cursor for the next page, or null after the last one. */
  next: string | null;
}

export interface Store {
  /** Creates the job with its first event (`job.queued`, seq 1), atomically and durably. */
  createJob(id: string, queued: Extract<NewEvent, { name: 'job.queued' }>): Promise<Appended>;
  /**
   * Appends an event with the job's next seq (gapless: last seq + 1), folds it into the
   * snapshot with the shared reducer, and trims the log to the last `logSize` events.
   * Rejects with JobcastError('job_not_found') for an unknown job.
   * Appends to one job resolve in the order they were called.
   */
  append(id: string, event: NewEvent): Promise<Appended>;
  /** The job's snapshot at its last seq (queuePosition as last set by an event), or null. */
  getSnapshot(id: string): Promise<Snapshot | null>;
  /**
   * Every event with seq > since, in order, when the log still holds all of them;
   * null when it does not (since older than the log, or larger than the job's seq)
   * or the job is unknown. An empty array means the caller is up to date.
   */
  eventsSince(id: string, since: number): Promise<JobEvent[] | null>;
  /** Newest first, paged. Rejects with JobcastError('invalid_query') for a cursor it did not make. */
  list(query: ListQuery): Promise<ListPage>;
  /** Ids of the jobs in these statuses, in the order they were created (oldest first). */
  idsByStatus(statuses: readonly JobStatus[]): Promise<string[]>;
  /** How many jobs are in each status. */
  countByStatus(): Promise<Record<JobStatus, number>>;
  /** Ids of the jobs that finished last, the latest first (by finishedAt), at most `limit`: ids only, no snapshot is read. */
  recentlyFinished(limit: number): Promise<string[]>;
  /** Ids of finished jobs whose finishedAt is before `ts`, at most `limit`. */
  finishedBefore(ts: number, limit: number): Promise<string[]>;
  /** Removes the job and its log; false when it did not exist. */
  delete(id: string): Promise<boolean>;
  /** Resolves when the store can read and write; rejects otherwise (for /readyz). */
  ping(): Promise<void>;
  /** Flushes and releases the store; safe to call twice. */
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Events kept per job for resume (--log-size). */
  logSize: number;
}
