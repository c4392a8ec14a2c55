// Queue positions are not events (SPEC 3.2): logging them would cost a write per
// waiting job per job start. Instead every change of the waiting line is announced on
// the Feed (queueMoved), and this notifier, in each process, at most once per
// --progress-interval, reads the waiting line from the Queue and sends a `position`
// message to this process's listeners (the hub) for each job whose position moved since
// it was last told. The latest value always arrives.

import { EventEmitter } from 'node:events';
import type { Feed } from '../feed/feed.js';
import type { JobEvent, PositionMessage } from '../protocol/types.js';
import type { Queue } from '../queue/queue.js';

/** Emits `position` for this process's listeners. */
export class PositionNotifier extends EventEmitter<{ position: [message: PositionMessage] }> {
  /** Last position each waiting job was told (by an event or a message). */
  private readonly told = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private lastFlushAt = 0;
  private isFlushing = false;
  private isFlushDue = false;
  private isClosed = false;

  constructor(
    private readonly queue: Queue,
    private readonly feed: Feed,
    private readonly intervalMs: number,
  ) {
    super();
    feed.on('queueMoved', this.feedOnQueueMoved);
    feed.on('event', this.feedOnEvent);
  }

  /** The position last told for a waiting job, or null. */
  known(jobId: string): number | null {
    return this.told.get(jobId) ?? null;
  }

  /** Sends every changed position now. */
  async flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.isFlushing) {
      this.isFlushDue = true;
      return;
    }
    this.isFlushing = true;
    this.lastFlushAt = Date.now();
    try {
      this.tell(await this.queue.waiting());
    } catch {
      // The queue did not answer (a remote one, unreachable): the next move tries again.
    } finally {
      this.isFlushing = false;
      if (this.isFlushDue && !this.isClosed) {
        this.isFlushDue = false;
        this.schedule();
      }
    }
  }

  /** Stops the timer and stops listening; safe to call twice. */
  close(): void {
    this.isClosed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.feed.off('queueMoved', this.feedOnQueueMoved);
    this.feed.off('event', this.feedOnEvent);
  }

  /** Coalesces bursts of moves into one flush per interval. */
  private schedule(): void {
    if (this.timer !== null || this.isClosed) return;
    const waitMs = Math.max(0, this.lastFlushAt + this.intervalMs - Date.now());
    this.timer = setTimeout(() => void this.flush(), waitMs);
    this.timer.unref();
  }

  private tell(waiting: string[]): void {
    const isWaiting = new Set<string>();
    for (const [i, job] of waiting.entries()) {
      const position = i + 1;
      isWaiting.add(job);
      if (this.told.get(job) === position) continue;
      this.told.set(job, position);
      this.emit('position', { type: 'position', job, position });
    }
    for (const job of this.told.keys()) if (!isWaiting.has(job)) this.told.delete(job);
  }

  private readonly feedOnQueueMoved = (): void => this.schedule();

  /** job.queued and job.requeued carry the position: no message needs to repeat it. */
  private readonly feedOnEvent = (event: JobEvent): void => {
    if (event.name === 'job.queued' || event.name === 'job.requeued') this.told.set(event.job, event.data.position);
  };
}
