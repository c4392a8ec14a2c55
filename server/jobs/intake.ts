// Intake (SPEC 2.1): admission of new jobs and their creation. A job is refused while
// the server shuts down or while --max-queued-jobs wait; otherwise its options go beside
// its files, its job.queued is logged (seq 1) and it joins the queue.

import { JobcastError } from '../errors.js';
import type { FileDescriptor, Snapshot } from '../protocol/types.js';
import type { Queue } from '../queue/queue.js';
import type { JobFiles } from '../spool/job-files.js';
import type { JobLog } from './job-log.js';

/** A job as the upload route hands it over: files already on the spool. */
export interface NewJob {
  id: string;
  processor: string;
  label: string | null;
  options: Record<string, unknown>;
  failFast: boolean;
  files: FileDescriptor[];
}

export interface IntakeOptions {
  log: JobLog;
  queue: Queue;
  files: JobFiles;
  /** --max-queued-jobs: past this many waiting jobs, uploads get 503 queue_full. */
  maxQueuedJobs: number;
}

/** A hint for clients refused with queue_full: about one job's worth of waiting. */
const QUEUE_FULL_RETRY_AFTER_S = '5';
/** A hint for clients refused during a shutdown: another instance, or this one restarted. */
const SHUTTING_DOWN_RETRY_AFTER_S = '5';

export class Intake {
  private isClosed = false;
  /**
   * Jobs inside create() and not yet in the queue. create() awaits several writes before
   * the job is queued, and concurrent uploads would each pass the queue check before any
   * was counted (limit 50, 57 queued); they count against --max-queued-jobs until queued.
   */
  private admitting = 0;

  constructor(private readonly opts: IntakeOptions) {}

  /** Rejects with shutting_down once close() was called. */
  assertOpen(): void {
    if (this.isClosed) throw new JobcastError('shutting_down', undefined, { 'retry-after': SHUTTING_DOWN_RETRY_AFTER_S });
  }

  /** Rejects with queue_full (and Retry-After) when --max-queued-jobs jobs already wait. */
  async assertRoomInQueue(): Promise<void> {
    if ((await this.opts.queue.size()) + this.admitting >= this.opts.maxQueuedJobs) throw queueFull();
  }

  /** Queues a job whose files are on the spool; resolves with its first snapshot. */
  async create(job: NewJob): Promise<Snapshot> {
    this.assertOpen();
    const { log, queue, files } = this.opts;
    // Counted before the first await, so that concurrent creates each see the others.
    this.admitting++;
    try {
      if ((await queue.size()) + this.admitting > this.opts.maxQueuedJobs) throw queueFull();
      // The options travel with the files: a job recovered after a restart needs them too.
      await files.writeOptions(job.id, job.options);
      const position = (await queue.size()) + 1;
      const snapshot = await log.create(job.id, {
        name: 'job.queued',
        data: { processor: job.processor, label: job.label, failFast: job.failFast, files: job.files, position },
      });
      // The position it was queued at, even if a scheduler takes it at once: a job about to
      // start is still `queued`, at position 1, until its job.started.
      const queuedAt = await queue.enqueue(job.id, snapshot.createdAt);
      return queuedAt === snapshot.queuePosition ? snapshot : { ...snapshot, queuePosition: queuedAt };
    } finally {
      this.admitting--;
    }
  }

  /** Takes no more jobs (shutdown); safe to call twice. */
  close(): void {
    this.isClosed = true;
  }
}

function queueFull(): JobcastError {
  return new JobcastError('queue_full', undefined, { 'retry-after': QUEUE_FULL_RETRY_AFTER_S });
}
