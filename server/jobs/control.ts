// Cancel and delete (SPEC 1, 2.2), from any process: a cancel reaches the job's owner,
// wherever it runs, through the Feed's `cancel` notice.

import { JobcastError } from '../errors.js';
import type { Feed } from '../feed/feed.js';
import { isFinalStatus, type Snapshot } from '../protocol/types.js';
import type { Queue } from '../queue/queue.js';
import type { JobFiles } from '../spool/job-files.js';
import type { Store } from '../store/store.js';
import type { JobLog } from './job-log.js';
import type { JobReader } from './reader.js';

export interface JobControlOptions {
  log: JobLog;
  store: Store;
  queue: Queue;
  feed: Feed;
  files: JobFiles;
  reader: JobReader;
}

export class JobControl {
  constructor(private readonly opts: JobControlOptions) {}

  /**
   * Cancels a queued or running job (SPEC 1); rejects job_finished for a finished one.
   * A waiting job leaves the queue. A claimed one is stopped by its owner at once (the
   * `cancel` notice aborts its processor), and job.cancelled, appended without a fence,
   * takes the job from that owner: whatever it tries to append next is refused. A job
   * that ends meanwhile makes the append reject with job_finished.
   */
  async cancel(id: string): Promise<Snapshot> {
    const { log, queue, feed, reader } = this.opts;
    const snapshot = await reader.get(id);
    if (isFinalStatus(snapshot.status)) throw new JobcastError('job_finished');
    const now = Date.now();
    if (await queue.remove(id)) {
      return log.append(id, { name: 'job.cancelled', data: { durationMs: now - snapshot.createdAt } });
    }
    // Before the append, as a local cancel always did: a run stopped here whose cancel then
    // cannot be stored is left `running` in the store, and the scheduler handles that as a store fault.
    await feed.publish({ kind: 'cancel', job: id });
    return log.append(id, { name: 'job.cancelled', data: { durationMs: now - (snapshot.startedAt ?? now) } });
  }

  /** Forgets a finished job and deletes its files; rejects job_active for a queued or running one. */
  async delete(id: string): Promise<void> {
    const snapshot = await this.opts.reader.get(id);
    if (!isFinalStatus(snapshot.status)) throw new JobcastError('job_active');
    await this.forget(id);
  }

  /** Removes a finished job's record and files (DELETE and --retention), and tells every process. */
  async forget(id: string): Promise<void> {
    await this.opts.store.delete(id);
    await this.opts.files.removeJob(id);
    await this.opts.feed.publish({ kind: 'deleted', job: id });
  }
}
