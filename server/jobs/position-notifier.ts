// Queue positions are not events (SPEC 3.2): logging them would cost a write per
// waiting job per job start. Instead the queue marks itself dirty and this notifier,
// at most once per --progress-interval, sends a `position` message for each job
// whose position moved since the last message. The latest value always arrives.

import { EventEmitter } from 'node:events';
import type { PositionMessage } from '../protocol/types.js';
import type { JobQueue } from './job-queue.js';

/** Emits `position` for this process's listeners (the hub). */
export class PositionNotifier extends EventEmitter<{ position: [message: PositionMessage] }> {
  /** Last position each waiting job was told (by an event or a message). */
  private readonly told = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private lastFlushAt = 0;

  constructor(
    private readonly queue: JobQueue,
    private readonly intervalMs: number,
  ) {
    super();
  }

  /** Records a position already carried by an event (job.queued, job.requeued), so no message repeats it. */
  remember(jobId: string, position: number): void {
    this.told.set(jobId, position);
  }

  /** Called after every queue change; coalesces bursts into one flush per interval. */
  schedule(): void {
    if (this.timer !== null) return;
    const waitMs = Math.max(0, this.lastFlushAt + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), waitMs);
    this.timer.unref();
  }

  /** Sends every changed position now. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.lastFlushAt = Date.now();
    const waiting = new Set<string>();
    for (const [job, position] of this.queue.positions()) {
      waiting.add(job);
      if (this.told.get(job) === position) continue;
      this.told.set(job, position);
      this.emit('position', { type: 'position', job, position });
    }
    for (const job of this.told.keys()) if (!waiting.has(job)) this.told.delete(job);
  }

  /** Stops the timer; safe to call twice. */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
