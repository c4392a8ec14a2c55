// The Store contract: job records and their event logs, and the fence that keeps a
// job's log to one writer at a time. The job code sees only this, so the sqlite, memory
// and (later) Redis implementations are interchangeable; test/contracts/store-contract.ts
// holds them all to it.

import { isJobcastError } from '../errors.js';
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
  /**
   * Only jobs whose id, label or a file name contains this, ignoring case
   * (protocol/search.ts); every job when absent or blank. At most 200 characters.
   */
  q?: string;
}

export interface ListPage {
  /** Newest first. */
  jobs: Snapshot[];
  /** Cursor for the next page, or null after the last one. */
  next: string | null;
}

/**
 * A fence token (SPEC 6): the job's epoch when its owner claimed it. Each claim bumps
 * the job's epoch, so a token only ever names the latest claim; an owner that was
 * paused past a takeover or a cancel holds a token the store no longer accepts.
 */
export type Fence = number;

/** True for the rejection of an append whose fence token is no longer current. */
export function isFencedError(error: unknown): boolean {
  return isJobcastError(error) && error.code === 'fenced';
}

export interface AppendOptions {
  /**
   * The appending owner's fence token. Absent only for the appends that need no owner
   * (see Store.append).
   */
  fence?: Fence;
}

export interface Store {
  /** Creates the job with its first event (`job.queued`, seq 1), atomically and durably. */
  createJob(id: string, queued: Extract<NewEvent, { name: 'job.queued' }>): Promise<Appended>;
  /**
   * Appends an event with the job's next seq (gapless: last seq + 1), folds it into the
   * snapshot with the shared reducer, and trims the log to the last `logSize` events,
   * as one atomic step. Appends to one job resolve in the order they were called.
   *
   * Fencing, checked atomically with the append, in this order:
   * - With `fence`: appended only while `fence` is the job's current epoch; otherwise
   *   rejects with JobcastError('fenced') and writes nothing. Every event of a run
   *   (job.started, file.*, job.completed, job.failed, job.requeued at shutdown) is
   *   appended this way by the job's owner.
   * - Without `fence`: the append needs no owner, and it revokes the current one (the
   *   epoch is bumped in the same step, so the owner's next fenced append is refused).
   *   Only these are made so: job.cancelled (a cancel, from any process), and
   *   job.requeued when nobody owns the job: at restart ("restart": its owner's process
   *   is gone) and after a store fault ("store": its run was stopped and it waits in the
   *   queue). createJob needs no fence either: nobody can own a job before it exists.
   *   The requeue after Queue.release took an expired claim ("takeover") carries the
   *   epoch the release returned, so that it cannot revoke a claim made right after.
   * - A finished job takes no more events: rejects with JobcastError('job_finished'),
   *   so a cancel racing the owner's last event cannot land after it.
   * Rejects with JobcastError('job_not_found') for an unknown job.
   */
  append(id: string, event: NewEvent, options?: AppendOptions): Promise<Appended>;
  /**
   * Starts a new ownership of the job: bumps its epoch and resolves with it, the fence
   * token of the claim. Epochs only grow while the store holds the job (a store kept in
   * one process, memory or SQLite, starts them again at its next start: no token of the
   * previous process can be presented then). Rejects job_not_found for an unknown job.
   */
  issueFence(id: string): Promise<Fence>;
  /** The job's snapshot at its last seq (queuePosition as last set by an event), or null. */
  getSnapshot(id: string): Promise<Snapshot | null>;
  /**
   * Every event with seq > since, in order, when the log still holds all of them;
   * null when it does not (since older than the log, or larger than the job's seq)
   * or the job is unknown. An empty array means the caller is up to date.
   */
  eventsSince(id: string, since: number): Promise<JobEvent[] | null>;
  /** Newest first, paged. Rejects with JobcastError('invalid_query') for a cursor it did not make or a `q` it cannot take. */
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
