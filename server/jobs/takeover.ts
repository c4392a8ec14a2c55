// Takeover (SPEC 6): a process that dies mid-job (kill -9, a lost machine) or stops
// renewing its claims for a lease (a pause, a partition) loses its jobs to the others.
// Every process sharing the queue checks for expired claims every fifth of the lease;
// the release (one atomic step in the queue: still expired, still that epoch) succeeds
// for one of them, which bumps the job's epoch (the old owner is fenced off at once),
// puts the job back in its place, and appends job.requeued with reason "takeover". The
// next claim continues from the first unfinished file.
//
// The bound: the dead owner's last renewal was at most a third of a lease before it
// died, so its claim expires at most one lease after the death, and the next check
// comes at most a fifth of a lease later: the job is back in the queue within 1.2
// leases (12 s with the default --lease of 10 s), and starts then if a process has a
// free slot.

import type { Logger } from '../logger.js';
import type { Queue } from '../queue/queue.js';
import { isFencedError } from '../store/store.js';
import { isJobcastError } from '../errors.js';
import type { JobLog } from './job-log.js';

export interface TakeoverOptions {
  queue: Queue;
  log: JobLog;
  logger: Logger;
  /** --lease; checks run every fifth of it. */
  leaseMs: number;
  /** Counts each takeover this process made (metrics). */
  onTakeover?(): void;
}

/** How often expired claims are looked for, as a fraction of the lease. */
export const CHECKS_PER_LEASE = 5;

export class TakeoverWatcher {
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<number> | null = null;

  constructor(private readonly opts: TakeoverOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), Math.max(1, Math.floor(this.opts.leaseMs / CHECKS_PER_LEASE)));
    this.timer.unref();
  }

  /** Takes over every expired claim another process has not taken first; resolves with how many. */
  check(): Promise<number> {
    this.checking ??= this.checkOnce().finally(() => (this.checking = null));
    return this.checking;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async checkOnce(): Promise<number> {
    const { queue, log, logger } = this.opts;
    let taken = 0;
    try {
      for (const expired of await queue.expired()) {
        const released = await queue.release(expired);
        if (released === null) continue;
        taken++;
        this.opts.onTakeover?.();
        logger.warn(
          { job: expired.id, owner: expired.owner, expiredAt: expired.expiredAt, position: released.position },
          'took over a job whose owner stopped renewing its claim',
        );
        // With the release's epoch: if another process claimed the job meanwhile, this is
        // refused and that claimer records the takeover itself (scheduler.ts).
        const requeue = { name: 'job.requeued', data: { reason: 'takeover', position: released.position } } as const;
        await log.append(expired.id, requeue, { fence: released.fence }).catch((err: unknown) => {
          if (!isFencedError(err) && !(isJobcastError(err) && err.code === 'job_finished')) throw err;
        });
      }
    } catch (err) {
      logger.warn({ err }, 'the check for expired claims failed; it runs again shortly');
    }
    return taken;
  }
}
