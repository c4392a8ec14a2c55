// Checks and small helpers both stores share, so they answer bad queries, cursors and
// events the same way.
import { ConfigError } from '../config.js';
import { JobcastError } from '../errors.js';
import { JOB_STATUSES } from '../protocol/types.js';
/** Throws ConfigError unless `logSize` is a whole number of events, at least 1. */
export function checkStoreOptions(options) {
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
export function storedEvent(id, seq, event) {
    const json = JSON.stringify(event.data ?? {});
    const stored = { type: 'event', job: id, seq, ts: event.ts ?? Date.now(), name: event.name, data: JSON.parse(json) };
    return { event: stored, json };
}
/** Rejects `job.queued` outside createJob: folding it again would reset the job. */
export function checkAppendable(event) {
    if (event.name === 'job.queued')
        throw new TypeError('job.queued only starts a job: use createJob()');
}
/**
 * Checks `limit` and `status` and decodes the cursor. Cursors are the creation number of
 * the last job of the previous page, in decimal; anything else was not made by a store.
 * Returns the creation number the page starts below.
 */
export function checkListQuery(query) {
    const { limit, status, cursor } = query;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500) {
        throw new JobcastError('invalid_query', `limit must be a whole number from 1 to 500, got ${String(limit)}`);
    }
    if (status !== undefined && !JOB_STATUSES.includes(status)) {
        throw new JobcastError('invalid_query', `status must be one of ${JOB_STATUSES.join(', ')}`);
    }
    if (cursor === undefined)
        return Number.MAX_SAFE_INTEGER;
    if (typeof cursor !== 'string' || !/^[1-9][0-9]{0,15}$/.test(cursor) || !Number.isSafeInteger(Number(cursor))) {
        throw new JobcastError('invalid_query', 'cursor is not valid');
    }
    return Number(cursor);
}
/** The rejection for any call after close(); 503 if it reaches an HTTP answer. */
export function closedError() {
    return new JobcastError('shutting_down', 'the store is closed');
}
/** The rejection for an append to a job the store does not hold. */
export function jobNotFound(id) {
    return new JobcastError('job_not_found', `no job has the id '${id}'`);
}
/** The rejection for createJob with a taken id: ids are never reused, so this is a caller bug. */
export function duplicateJob(id) {
    return new JobcastError('internal_error', `a job with the id '${id}' already exists`);
}
/** Every status at zero, so callers never meet a missing key. */
export function emptyCounts() {
    return { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
}
//# sourceMappingURL=store-checks.js.map