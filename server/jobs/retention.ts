// --retention: finished jobs and their files are deleted once they are older than this.

import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';

/** How many jobs one sweep deletes at most, so a large backlog never stalls the event loop. */
const SWEEP_BATCH = 200;

export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;

  constructor(
    private readonly store: Store,
    private readonly forget: (id: string) => Promise<void>,
    private readonly retentionMs: number,
    private readonly logger: Logger,
    /**
     * Runs a sweep unless another process sharing the store runs one now (then resolves
     * null); default: runs it. Two processes deleting the same jobs would each tell every
     * subscriber twice.
     */
    private readonly exclusive: (sweep: () => Promise<number>) => Promise<number | null> = (sweep) => sweep(),
  ) {}

  /** Sweeps now, then every tenth of the retention period (at most once a minute). */
  start(): void {
    const everyMs = Math.min(60_000, Math.max(1000, Math.floor(this.retentionMs / 10)));
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), everyMs);
    this.timer.unref();
  }

  /** Deletes finished jobs past retention; resolves with how many. Concurrent calls share one sweep. */
  sweep(): Promise<number> {
    this.sweeping ??= this.exclusive(() => this.sweepOnce())
      .then((deleted) => deleted ?? 0, () => 0)
      .finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    let deleted = 0;
    try {
      for (;;) {
        const ids = await this.store.finishedBefore(Date.now() - this.retentionMs, SWEEP_BATCH);
        for (const id of ids) await this.forget(id);
        deleted += ids.length;
        if (ids.length < SWEEP_BATCH) break;
      }
      if (deleted > 0) this.logger.info({ deleted }, 'deleted finished jobs past --retention');
    } catch (err) {
      this.logger.warn({ err }, 'retention sweep failed; it runs again later');
    }
    return deleted;
  }

  /** Stops the timer; safe to call twice. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
