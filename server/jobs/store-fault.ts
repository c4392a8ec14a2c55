// A store that stops taking writes mid-job (its disk full, its file unwritable) pauses
// processing rather than failing jobs: the job goes back to its place in the queue,
// nothing starts, and the store is tried every second. Once it takes writes again, each
// job the fault stopped mid-run gets job.requeued (reason "store") and processing resumes.

import type { Logger } from '../logger.js';
import type { Queue } from '../queue/queue.js';
import type { Store } from '../store/store.js';
import type { JobLog } from './job-log.js';

/** While the store cannot be written, it is tried this often; no job starts meanwhile. */
const STORE_RETRY_MS = 1000;

export interface StoreFaultHoldOptions {
  store: Store;
  queue: Queue;
  log: JobLog;
  logger: Logger;
  /** The store takes writes again: processing may resume. */
  onRecovered(): void;
}

export class StoreFaultHold {
  /**
   * Set while the store cannot be written: the timer that tries it again, and the jobs it
   * stopped mid-run, back in the queue but still `running` in the store.
   */
  private fault: { timer: NodeJS.Timeout; stopped: Set<string>; isTrying: boolean } | null = null;

  constructor(private readonly opts: StoreFaultHoldOptions) {}

  /** True while processing is paused for the store. */
  get isHolding(): boolean {
    return this.fault !== null;
  }

  /**
   * Pauses processing until the store takes writes. `stoppedJob`: a job whose run the
   * fault stopped while the store has it `running`; it is requeued once the store works.
   */
  hold(stoppedJob?: string): void {
    if (this.fault === null) {
      const timer = setInterval(() => void this.tryStore(), STORE_RETRY_MS);
      timer.unref();
      this.fault = { timer, stopped: new Set(), isTrying: false };
    }
    if (stoppedJob !== undefined) this.fault.stopped.add(stoppedJob);
  }

  /** Stops trying (shutdown): jobs it stopped stay `running` in the store, and the next start requeues them. */
  close(): void {
    if (this.fault !== null) clearInterval(this.fault.timer);
  }

  /** Once the store works: requeues the jobs the fault stopped, in queue order, and lets processing resume. */
  private async tryStore(): Promise<void> {
    const { store, queue, log, logger } = this.opts;
    const fault = this.fault;
    if (fault === null || fault.isTrying) return;
    fault.isTrying = true;
    try {
      await store.ping();
      const waiting = await Promise.all([...fault.stopped].map(async (id) => ({ id, position: await queue.position(id) })));
      waiting.sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
      for (const { id, position } of waiting) {
        // No owner: the job waits in the queue. A job cancelled meanwhile has left it.
        if (position !== null) await log.append(id, { name: 'job.requeued', data: { reason: 'store', position } });
        fault.stopped.delete(id);
      }
    } catch {
      return; // Still failing: the timer tries again.
    } finally {
      fault.isTrying = false;
    }
    clearInterval(fault.timer);
    this.fault = null;
    logger.info('the store takes writes again: processing resumes');
    this.opts.onRecovered();
  }
}
