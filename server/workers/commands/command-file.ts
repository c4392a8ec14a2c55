// One file served by one command child: waits for the child to be ready, sends the
// request, turns its lines into progress and an outcome, and stops it on cancel or
// --file-timeout (a `cancel` line first; the process group is killed when the child has
// not answered the file within the grace).

import { performance } from 'node:perf_hooks';
import type { StopReason } from '../messages.js';
import { cancelled, failed, isFile, stopOutcome, type PoolSettings } from '../outcomes.js';
import type { RunFileOutcome, RunFileRequest } from '../pool-types.js';
import { createProgressThrottle, type ProgressThrottle } from '../progress-throttle.js';
import type { ChildListener, CommandChild } from './command-child.js';
import type { ChildLine } from './protocol.js';

export class CommandFileRun implements ChildListener {
  readonly #req: RunFileRequest;
  readonly #child: CommandChild;
  readonly #settings: PoolSettings;
  readonly #throttle: ProgressThrottle;
  readonly #outcome: Promise<RunFileOutcome>;
  #resolve: (outcome: RunFileOutcome) => void = () => undefined;
  #isReady = false;
  #requestSentAt: number | null = null;
  #stopReason: StopReason | null = null;
  #violation: string | null = null;
  #isSettled = false;
  #isDestroyed = false;
  /** --file-timeout: for the start-up while not ready, then for the file. */
  #timeoutTimer: NodeJS.Timeout | null = null;
  #graceTimer: NodeJS.Timeout | null = null;

  constructor(req: RunFileRequest, child: CommandChild, settings: PoolSettings) {
    this.#req = req;
    this.#child = child;
    this.#settings = settings;
    this.#throttle = createProgressThrottle(settings.progressIntervalMs, (done, total, ts) => this.#callOnProgress(done, total, ts));
    this.#outcome = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Serves the file; never rejects. The child is idle again afterwards unless it had to be killed. */
  run(): Promise<RunFileOutcome> {
    const { req } = this;
    req.signal.addEventListener('abort', this.#signalOnAbort, { once: true });
    // A child still starting gets --file-timeout to say ready: a processor that loads a
    // model pays for it once, and that wait is bounded only when the user asked for a bound.
    if (req.timeoutMs !== null) this.#timeoutTimer = setTimeout(() => this.#stop('timeout'), req.timeoutMs);
    this.#child.attach(this, { job: req.jobId, file: req.file.index });
    if (req.signal.aborted) this.#stop('cancelled');
    return this.#outcome;
  }

  /** The pool is being destroyed: end now, as cancelled. */
  destroy(): void {
    this.#isDestroyed = true;
    this.#stop('cancelled');
    this.#child.kill();
  }

  get req(): RunFileRequest {
    return this.#req;
  }

  onReady(): void {
    if (this.#isSettled || this.#stopReason !== null) return;
    this.#isReady = true;
    const { req } = this;
    this.#child.send({
      type: 'process',
      job: req.jobId,
      file: req.file,
      options: req.options,
      outputPath: req.outputPath,
      progressIntervalMs: this.#settings.progressIntervalMs,
    });
    this.#requestSentAt = performance.now();
    if (this.#timeoutTimer !== null) clearTimeout(this.#timeoutTimer);
    // --file-timeout counts processing time from the request on.
    if (req.timeoutMs !== null) this.#timeoutTimer = setTimeout(() => this.#stop('timeout'), req.timeoutMs);
  }

  onLine(line: ChildLine): void {
    if (this.#isSettled) return;
    switch (line.type) {
      case 'progress':
        // A stopped file is about to end as cancelled or timed out: its progress no longer matters.
        if (this.#stopReason === null) this.#throttle.report(line.done, line.total);
        return;
      case 'log':
        this.#settings.logger.info({ job: this.req.jobId, file: this.req.file.index, processor: this.req.processor }, line.message);
        return;
      case 'result':
        void this.#settleWithResult(line.result);
        return;
      case 'error':
        this.#settle(this.#stopReason !== null ? this.#stopped() : failed('processor_error', line.message, this.#durationMs()));
        return;
      case 'ready':
        return;
    }
  }

  onViolation(reason: string): void {
    this.#violation = reason;
  }

  onGone(why: string, stderrTail: string): void {
    if (this.#isSettled) return;
    const durationMs = this.#durationMs();
    if (this.#stopReason !== null) return this.#settle(this.#stopped());
    if (this.#violation !== null) return this.#settle(failed('processor_error', `the processor broke the protocol: ${this.#violation}`, durationMs));
    const when = this.#isReady ? 'while processing the file' : 'before it was ready';
    const stderr = stderrTail === '' ? '' : ` (last stderr: ${stderrTail})`;
    this.#settle(failed('worker_crashed', `the processor's process ${why} ${when}${stderr}`, durationMs));
  }

  #stopped(): RunFileOutcome {
    if (this.#isDestroyed) return cancelled('the processor pool was destroyed while the file ran', this.#durationMs());
    return stopOutcome(this.#stopReason!, this.req, this.#durationMs());
  }

  async #settleWithResult(result: unknown): Promise<void> {
    if (this.#stopReason !== null) return this.#settle(this.#stopped());
    const durationMs = this.#durationMs();
    this.#finish();
    const output = await isFile(this.req.outputPath);
    this.#resolve({ ok: true, result, durationMs, output });
  }

  readonly #signalOnAbort = (): void => this.#stop('cancelled');

  #stop(reason: StopReason): void {
    if (this.#isSettled || this.#stopReason !== null) return;
    this.#stopReason = reason;
    this.#throttle.end();
    if (!this.#isReady) {
      // Nothing to be polite to: the child has not taken the file.
      this.#child.kill();
      return;
    }
    this.#child.send({ type: 'cancel', reason });
    this.#graceTimer = setTimeout(() => this.#child.kill(), this.#settings.abortGraceMs);
  }

  #settle(outcome: RunFileOutcome): void {
    if (this.#isSettled) return;
    this.#finish();
    this.#resolve(outcome);
  }

  /** Stops the timers and listeners and lets the child go (idle again, unless it is gone). */
  #finish(): void {
    this.#isSettled = true;
    if (this.#timeoutTimer !== null) clearTimeout(this.#timeoutTimer);
    if (this.#graceTimer !== null) clearTimeout(this.#graceTimer);
    this.#throttle.end();
    this.req.signal.removeEventListener('abort', this.#signalOnAbort);
    this.#child.detach();
  }

  #durationMs(): number {
    return this.#requestSentAt === null ? 0 : Math.round(performance.now() - this.#requestSentAt);
  }

  #callOnProgress(done: number, total: number | null, ts: number): void {
    if (this.#isSettled || this.#stopReason !== null) return;
    try {
      this.req.onProgress(done, total, ts);
    } catch (err) {
      this.#settings.logger.error({ err, job: this.req.jobId }, 'the onProgress callback threw');
    }
  }
}
