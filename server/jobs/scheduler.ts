// The scheduler: claims jobs from the queue while fewer than --concurrency run in this
// process, runs each (runner.ts), then acks it, or puts it back at shutdown. It renews
// the leases of its claims, stops a job whose cancel reaches it through the Feed, stops
// a job the store fences off (another owner has it) without writing anything more, and
// pauses while the store cannot be written (store-fault.ts).

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Feed } from '../feed/feed.js';
import { isFinalStatus, type QueueStats } from '../protocol/types.js';
import type { Claim, Queue } from '../queue/queue.js';
import { isJobcastError } from '../errors.js';
import { isFencedError, type Store } from '../store/store.js';
import { runJob, RunningJob, type RunnerDeps } from './runner.js';
import { StoreFaultHold } from './store-fault.js';

export interface SchedulerOptions extends RunnerDeps {
  store: Store;
  queue: Queue;
  feed: Feed;
  /** --concurrency: jobs run at once by this process (default 1). */
  concurrency: number;
  /** Who claims, for the queue's records and the logs (default: host, pid and a random part). */
  owner?: string;
  /**
   * How long a claim lasts unless renewed (default 30 s); renewed every third of it. A
   * shared queue hands the job of an owner silent for this long to another process.
   */
  leaseMs?: number;
}

const DEFAULT_LEASE_MS = 30_000;

export class Scheduler {
  private readonly running = new Map<string, { job: RunningJob; done: Promise<void> }>();
  private readonly hold: StoreFaultHold;
  private readonly owner: string;
  private readonly leaseMs: number;
  private renewTimer: NodeJS.Timeout | null = null;
  private isClosing = false;
  private closing: Promise<void> | null = null;
  private isPumping = false;
  private isPumpDue = false;

  constructor(private readonly opts: SchedulerOptions) {
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    this.hold = new StoreFaultHold({ ...opts, onRecovered: () => void this.pump() });
  }

  /** Starts claiming: now, after every move of the queue and every job's end. */
  start(): void {
    this.opts.feed.on('queueMoved', this.feedOnQueueMoved);
    this.opts.feed.on('cancel', this.feedOnCancel);
    this.renewTimer = setInterval(() => void this.renewLeases(), Math.max(1, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
    void this.pump();
  }

  /** `GET /queue` and the queue metrics. */
  async stats(): Promise<QueueStats> {
    const [queued, oldest] = await Promise.all([this.opts.queue.size(), this.opts.queue.oldestEnqueuedAt()]);
    return {
      queued,
      running: this.running.size,
      concurrency: this.opts.concurrency,
      oldestQueuedMs: oldest === null ? null : Math.max(0, Date.now() - oldest),
    };
  }

  /** The jobs running in this process now. */
  runningJobIds(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Graceful stop (SPEC 7): start nothing new, let running files finish for up to
   * `graceMs`, stop the rest, and put their jobs back with `job.requeued` (reason
   * "shutdown"). Safe to call twice: every caller gets the same promise.
   */
  close(graceMs: number): Promise<void> {
    this.closing ??= this.stopRunning(graceMs);
    return this.closing;
  }

  private async stopRunning(graceMs: number): Promise<void> {
    this.isClosing = true;
    this.opts.feed.off('queueMoved', this.feedOnQueueMoved);
    // Jobs stopped by a store fault stay `running` in the store: the next start requeues them.
    this.hold.close();
    for (const { job } of this.running.values()) job.stopAfterFile = true;
    const all = Promise.all([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([all, graceOver]);
    clearTimeout(timer);
    for (const { job } of this.running.values()) job.stop('shutdown');
    await all;
    if (this.renewTimer !== null) clearInterval(this.renewTimer);
    this.opts.feed.off('cancel', this.feedOnCancel);
  }

  // A move is announced from inside the queue's own methods: claim after they return.
  private readonly feedOnQueueMoved = (): void => queueMicrotask(() => void this.pump());

  /** A cancel from any process: if the job runs here, its processor is aborted now. */
  private readonly feedOnCancel = (job: string): void => this.running.get(job)?.job.stop('cancel');

  /** Claims and starts jobs while fewer than --concurrency run. One pump at a time; a call meanwhile makes it go round again. */
  private async pump(): Promise<void> {
    if (this.isPumping) {
      this.isPumpDue = true;
      return;
    }
    this.isPumping = true;
    try {
      do {
        this.isPumpDue = false;
        while (!this.isClosing && !this.hold.isHolding && this.running.size < this.opts.concurrency) {
          const claim = await this.claimNext();
          if (claim === null) break;
          this.launch(claim);
        }
      } while (this.isPumpDue);
    } finally {
      this.isPumping = false;
    }
  }

  private async claimNext(): Promise<Claim | null> {
    try {
      return await this.opts.queue.claim(this.owner, this.leaseMs);
    } catch (err) {
      this.opts.logger.error({ err }, 'could not claim a job: no job starts until the store answers');
      this.hold.hold();
      return null;
    }
  }

  private launch(claim: Claim): void {
    const job = new RunningJob(claim);
    const done = this.run(job)
      .catch((err: unknown) => this.opts.logger.error({ job: job.id, err }, 'a run ended on an error the store did not let it record'))
      .finally(() => {
        this.running.delete(job.id);
        void this.pump();
      });
    this.running.set(job.id, { job, done });
  }

  private async run(job: RunningJob): Promise<void> {
    try {
      await this.recordTakeover(job);
      const outcome = await runJob(this.opts, job);
      if (outcome === 'finished') await this.opts.queue.ack(job.claim);
      else await this.afterStop(job);
    } catch (err) {
      if (isFencedError(err)) return this.fencedOff(job);
      await this.afterRunError(job, err);
    }
  }

  /**
   * A claimed job that the store still has `running` was taken from an owner without a
   * job.requeued: the process that released it died before appending one, or this claim
   * came first and fenced that append off (jobs/takeover.ts). The claim records it, so
   * the file that was running is pending again and runs from its start.
   */
  private async recordTakeover(job: RunningJob): Promise<void> {
    const snapshot = await this.opts.store.getSnapshot(job.id);
    if (snapshot?.status !== 'running') return;
    await job.append(this.opts.log, { name: 'job.requeued', data: { reason: 'takeover', position: 1 } });
  }

  private async afterStop(job: RunningJob): Promise<void> {
    const { store, queue, log } = this.opts;
    if (job.stopReason === 'fenced') return this.fencedOff(job);
    if (job.stopReason === 'cancel') {
      // A cancel whose job.cancelled could not be stored (the caller got the error)
      // leaves the job `running` there: it is handled as a store fault.
      const stored = await store.getSnapshot(job.id);
      if (stored !== null && !isFinalStatus(stored.status)) {
        return this.afterRunError(job, new Error('the job was stopped for a cancel that could not be stored'));
      }
      await queue.ack(job.claim);
      return;
    }
    // Shutdown: the job goes back in its place, to continue at the next start.
    const position = await queue.putBack(job.claim);
    if (position !== null) await job.append(log, { name: 'job.requeued', data: { reason: 'shutdown', position } });
  }

  /** The store refused an append of this run: the job has another owner, or was cancelled elsewhere. */
  private async fencedOff(job: RunningJob): Promise<void> {
    // A local cancel's own append revokes this run's token: nothing unusual then.
    if (job.stopReason !== 'cancel') this.opts.logger.warn({ job: job.id }, 'the job has another owner now: its run here stopped');
    job.stop('fenced');
    await this.opts.queue.ack(job.claim).catch(() => false);
  }

  /**
   * runJob rejects only when an event could not be stored. If the store takes writes
   * (a fault of this job alone), the job fails with `internal_error`. If it does not
   * (its disk is full, its file unwritable, Redis unreachable: `not_ready`), the job goes
   * back to its place in the queue and processing pauses until the store works again
   * (store-fault.ts), even when the store answers again by the time this runs: a fault
   * that passed is no reason to fail a job.
   */
  private async afterRunError(job: RunningJob, err: unknown): Promise<void> {
    const { store, queue, log, logger } = this.opts;
    // undefined: the store could not even be read.
    const snapshot = await store.getSnapshot(job.id).catch(() => undefined);
    // Deleted or cancelled meanwhile, or (at shutdown) left `running` for the next start (or a takeover) to requeue.
    if (snapshot === null || (snapshot !== undefined && isFinalStatus(snapshot.status)) || this.isClosing) {
      logger.error({ job: job.id, err }, 'job stopped by an error');
      if (!this.isClosing && snapshot !== undefined) await queue.ack(job.claim).catch(() => false);
      return;
    }
    const isStoreFault = snapshot === undefined || (isJobcastError(err) && err.code === 'not_ready');
    const storeWorks = !isStoreFault && (await store.ping().then(() => true, () => false));
    if (storeWorks) {
      logger.error({ job: job.id, err }, 'job failed on an unexpected error');
      const error = { code: 'internal_error', message: 'the server failed while running this job; see its log' };
      const durationMs = Date.now() - (snapshot.startedAt ?? Date.now());
      const failed = await job.append(log, { name: 'job.failed', data: { durationMs, error } }).then(
        () => true,
        (appendErr: unknown) => (isFencedError(appendErr) ? 'fenced' : false),
      );
      if (failed === 'fenced') return this.fencedOff(job);
      if (failed) return void (await queue.ack(job.claim));
    }
    logger.error({ job: job.id, err }, 'the store cannot be written: the job waits in the queue and no job starts until it can');
    // Held before the job is back in the queue, so that no claim takes it again meanwhile.
    // A job whose job.started could not be stored is still `queued` there: no requeue event.
    this.hold.hold(snapshot === undefined || snapshot.status === 'running' ? job.id : undefined);
    // A claim that cannot be put back (the store is away) keeps the job claimed there until
    // its lease runs out; a shared queue then hands it to whichever process takes it over.
    await queue.putBack(job.claim).catch((putBackErr: unknown) => {
      logger.warn({ job: job.id, err: putBackErr }, 'could not put the job back in the queue; its claim runs out instead');
    });
  }

  /**
   * Keeps this process's claims alive, also while a shutdown lets running files finish:
   * a grace longer than the lease would otherwise hand them to another process (or back
   * to this one) mid-file. A claim that is no longer current stops its run.
   */
  private async renewLeases(): Promise<void> {
    for (const { job } of [...this.running.values()]) {
      const isCurrent = await this.opts.queue.renew(job.claim, this.leaseMs).catch(() => true);
      if (!isCurrent) job.stop('fenced');
    }
  }
}
