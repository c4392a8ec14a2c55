// Checks and small helpers both stores share, so they answer bad queries, cursors and
// events the same way.

import { ConfigError } from '../config.js';
import { JobcastError } from '../errors.js';
import { normaliseSearch, searchProblem } from '../protocol/search.js';
import { JOB_STATUSES, type JobEvent, type JobStatus, type NewEvent } from '../protocol/types.js';
import type { ListQuery, StoreOptions } from './store.js';

/** Throws ConfigError unless `logSize` is a whole number of events, at least 1. */
export function checkStoreOptions(options: StoreOptions): void {
  if (!Number.isSafeInteger(options.logSize) || options.logSize < 1) {
    throw new ConfigError(`--log-size must be a whole number of events, at least 1, got ${String(options.logSize)}`);
  }
}

/**
 * The event as stored and sent: `data` goes through JSON once, so the object handed to
 * live subscribers is exactly what a resuming client later reads back from the log
 * (no `undefined` fields, no Dates, no NaN that would turn into null on the way).
 * Returns the JSON text too, for stores that write it.
 */
export function storedEvent(id: string, seq: number, event: NewEvent): { event: JobEvent; json: string } {
  const json = JSON.stringify(event.data ?? {});
  const stored = { type: 'event', job: id, seq, ts: event.ts ?? Date.now(), name: event.name, data: JSON.parse(json) };
  return { event: stored as JobEvent, json };
}

/** Rejects `job.queued` outside createJob: folding it again would reset the job. */
export function checkAppendable(event: NewEvent): void {
  if (event.name === 'job.queued') throw new TypeError('job.queued only starts a job: use createJob()');
}

/** A checked list query: the creation number the page starts below, and the search text to look for ('' for none). */
export interface CheckedListQuery {
  before: number;
  search: string;
}

/**
 * Checks `limit`, `status` and `q` and decodes the cursor. Cursors are the creation number
 * of the last job of the previous page, in decimal; anything else was not made by a store.
 */
export function checkListQuery(query: ListQuery): CheckedListQuery {
  const { limit, status, cursor, q } = query;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500) {
    throw new JobcastError('invalid_query', `limit must be a whole number from 1 to 500, got ${String(limit)}`);
  }
  if (status !== undefined && !JOB_STATUSES.includes(status)) {
    throw new JobcastError('invalid_query', `status must be one of ${JOB_STATUSES.join(', ')}`);
  }
  if (q !== undefined) {
    const problem = typeof q === 'string' ? searchProblem(q) : 'q must be a string';
    if (problem !== null) throw new JobcastError('invalid_query', problem);
  }
  const search = q === undefined ? '' : normaliseSearch(q);
  if (cursor === undefined) return { before: Number.MAX_SAFE_INTEGER, search };
  if (typeof cursor !== 'string' || !/^[1-9][0-9]{0,15}$/.test(cursor) || !Number.isSafeInteger(Number(cursor))) {
    throw new JobcastError('invalid_query', 'cursor is not valid');
  }
  return { before: Number(cursor), search };
}

/** The rejection for any call after close(); 503 if it reaches an HTTP answer. */
export function closedError(): JobcastError {
  return new JobcastError('shutting_down', 'the store is closed');
}

/** The rejection for an append to a job the store does not hold. */
export function jobNotFound(id: string): JobcastError {
  return new JobcastError('job_not_found', `no job has the id '${id}'`);
}

/** The rejection for createJob with a taken id: ids are never reused, so this is a caller bug. */
export function duplicateJob(id: string): JobcastError {
  return new JobcastError('internal_error', `a job with the id '${id}' already exists`);
}

/** The rejection for an append whose fence token is no longer the job's epoch (SPEC 6). */
export function fencedError(id: string): JobcastError {
  return new JobcastError('fenced', `job '${id}' has a newer owner, or was cancelled: this claim may not append`);
}

/** The rejection for an append to a finished job: its last event is final. */
export function finishedError(id: string): JobcastError {
  return new JobcastError('job_finished', `job '${id}' has finished: it takes no more events`);
}

/** Every status at zero, so callers never meet a missing key. */
export function emptyCounts(): Record<JobStatus, number> {
  return { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
}
