// Events for the contract suites: a job's first event, each transition, and realistic
// runs, with increasing timestamps so that every event is distinct.

import assert from 'node:assert/strict';
import { foldEvents } from '../../server/protocol/reducer.js';
import type { JobEvent, NewEvent } from '../../server/protocol/types.js';
import type { Store } from '../../server/store/store.js';

export type Queued = Extract<NewEvent, { name: 'job.queued' }>;

let clock = 1_700_000_000_000;
/** A timestamp later than every one before it. */
export const tick = (): number => ++clock;

/** A job's `job.queued` with `files` files of `size` bytes. */
export function queued(files = 3, size = 1000): Queued {
  const list = Array.from({ length: files }, (_, index) => ({ index, name: `f${index}.bin`, size, type: 'application/octet-stream' }));
  return { name: 'job.queued', ts: tick(), data: { processor: 'sha256', label: 'batch', failFast: false, files: list, position: 1 } };
}

export const ev = {
  started: (): NewEvent => ({ name: 'job.started', ts: tick(), data: {} }),
  fileStarted: (file: number): NewEvent => ({ name: 'file.started', ts: tick(), data: { file } }),
  progress: (file: number, done: number, total = 1000): NewEvent => ({
    name: 'file.progress',
    ts: tick(),
    data: { file, done, total, fraction: done / total, rate: 5000, etaMs: 20, jobEtaMs: null },
  }),
  completed: (file: number): NewEvent => ({ name: 'file.completed', ts: tick(), data: { file, durationMs: 12, result: { sha256: 'ab' }, output: false } }),
  fileFailed: (file: number): NewEvent => ({
    name: 'file.failed',
    ts: tick(),
    data: { file, durationMs: 3, error: { code: 'processor_error', message: 'boom' } },
  }),
  requeued: (reason: Extract<NewEvent, { name: 'job.requeued' }>['data']['reason'] = 'shutdown'): NewEvent => ({
    name: 'job.requeued',
    ts: tick(),
    data: { reason, position: 1 },
  }),
  jobCompleted: (): NewEvent => ({ name: 'job.completed', ts: tick(), data: { durationMs: 100 } }),
  jobFailed: (): NewEvent => ({ name: 'job.failed', ts: tick(), data: { durationMs: 100, error: { code: 'files_failed', message: '1 file failed' } } }),
  jobCancelled: (): NewEvent => ({ name: 'job.cancelled', ts: tick(), data: { durationMs: 100 } }),
};

/** A realistic run of a 3-file job after job.queued: progress, a failure, a requeue, the end. */
export function realisticRun(progressPerFile = 12, end: () => NewEvent = ev.jobFailed): NewEvent[] {
  const run: NewEvent[] = [ev.started(), ev.fileStarted(0)];
  for (let i = 1; i <= progressPerFile; i++) run.push(ev.progress(0, (i * 1000) / (progressPerFile + 1)));
  run.push(ev.completed(0), ev.fileStarted(1), ev.progress(1, 300), ev.fileFailed(1), ev.fileStarted(2), ev.progress(2, 500));
  run.push(ev.requeued(), ev.started(), ev.fileStarted(2));
  for (let i = 1; i <= progressPerFile; i++) run.push(ev.progress(2, (i * 1000) / (progressPerFile + 1)));
  run.push(ev.completed(2), end());
  return run;
}

/** Creates a job and appends `run`, checking gapless seqs and the fold at every step; returns every stored event. */
export async function play(store: Store, id: string, run: NewEvent[], first: Queued = queued()): Promise<JobEvent[]> {
  const created = await store.createJob(id, first);
  assert.equal(created.event.seq, 1);
  const events = [created.event];
  for (const event of run) {
    const appended = await store.append(id, event);
    assert.equal(appended.event.seq, events.length + 1, 'seq is the last seq + 1');
    assert.deepEqual([appended.event.name, appended.event.ts, appended.event.data], [event.name, event.ts, event.data]);
    events.push(appended.event);
    assert.deepEqual(appended.snapshot, foldEvents(null, events));
  }
  return events;
}

/** Rejects unless `promise` rejects with an error whose `code` is `code`. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => (error as { code?: string }).code === code);
}

/** Resolves once `condition()` holds, checking every few ms (remote implementations deliver later); rejects after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
