// The pool of worker threads that runs JavaScript processors (SPEC 4), on top of piscina.
//
// One run() is one file. Its task carries a MessagePort of its own for progress, log
// lines and the abort request; piscina carries the result. Stopping is two steps: the
// worker is asked to abort ctx.signal (cooperative), and if the task has not settled
// after abortGraceMs the thread is terminated through piscina's own abort signal, which
// is the only way to stop a processor that never yields. piscina replaces the thread.

import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { isWorkerMessage, type PoolMessage, type StopReason, type WorkerResult, type WorkerTask } from './messages.js';
import { cancelled, checkPoolOptions, describe, isFile, stopOutcome, type PoolSettings } from './outcomes.js';
import type { RunFileOutcome, RunFileRequest } from './pool-types.js';

/** What a ThreadPool needs: the pool settings (see ProcessorPoolOptions in pool.ts). */
export type ThreadPoolOptions = PoolSettings;

type Settings = PoolSettings;

// Threads beyond one are let go after this long idle. --workers defaults to the CPU
// count while --concurrency defaults to one job (so one file) at a time: keeping every
// thread warm would hold memory for nothing. One thread stays, so the next file does
// not pay a thread start-up.
const IDLE_TIMEOUT_MS = 30_000;

/** Runs JavaScript processors in worker threads; see run() for the outcomes. */
export class ThreadPool {
  readonly #settings: Settings;
  readonly #piscina: Piscina<WorkerTask, WorkerResult>;
  /** Every run() not yet settled; close() waits for them. */
  readonly #running = new Set<Promise<RunFileOutcome>>();
  #queued = 0;
  #busy = 0;
  #isClosed = false;
  #isDestroyed = false;
  #closing: Promise<void> | null = null;
  #destroying: Promise<void> | null = null;

  /** Throws TypeError naming the option when one is invalid. */
  constructor(options: ThreadPoolOptions) {
    this.#settings = checkPoolOptions(options);
    this.#piscina = new Piscina<WorkerTask, WorkerResult>({
      filename: fileURLToPath(new URL('./worker-entry.cjs', import.meta.url)),
      minThreads: 1,
      maxThreads: this.#settings.workers,
      idleTimeout: IDLE_TIMEOUT_MS,
      // With atomics on, an idle piscina thread blocks in Atomics.wait(): timers and
      // sockets a processor left behind freeze, then wake up inside the next file's
      // task. Disabled, they run (or crash the thread) while it is idle, and are
      // reported here instead of failing an unrelated file. The saving atomics buy is
      // microseconds per task; a file takes milliseconds at least.
      atomics: 'disabled',
    });
    // piscina emits 'error' when a thread dies with no task on it (a stray timer throws
    // after its file finished). Unhandled, that event would crash the server.
    this.#piscina.on('error', (err: unknown) => {
      this.#settings.logger.warn({ err }, 'a worker thread died between files; it is replaced on demand');
    });
  }

  /**
   * Runs the module at `modulePath` on `req.file` in a worker thread. Never rejects:
   * every failure is an outcome (`processor_error`, `timeout`, `worker_crashed`, or
   * `cancelled` with `aborted: true` when req.signal aborted or the pool was closed).
   */
  run(req: RunFileRequest, modulePath: string): Promise<RunFileOutcome> {
    const running = this.#run(req, modulePath).catch((err: unknown): RunFileOutcome => {
      this.#settings.logger.error({ err, job: req.jobId, file: req.file.index }, 'the processor pool failed to run a file');
      return { ok: false, aborted: false, durationMs: 0, error: { code: 'worker_crashed', message: `the pool failed to run the processor: ${describe(err)}` } };
    });
    this.#running.add(running);
    void running.finally(() => this.#running.delete(running));
    return running;
  }

  /** Threads alive, threads running a file, and files waiting for a thread. */
  stats(): { threads: number; busy: number; queued: number } {
    return { threads: this.#piscina.threads.length, busy: this.#busy, queued: this.#queued };
  }

  /** Refuses new files, waits for the running and queued ones, then ends the threads. Same promise every call. */
  close(): Promise<void> {
    this.#closing ??= this.#closeGracefully();
    return this.#closing;
  }

  /** Terminates every thread now; running files end `cancelled` with `aborted: true`. Same promise every call. */
  destroy(): Promise<void> {
    this.#destroying ??= this.#destroyNow();
    return this.#destroying;
  }

  async #closeGracefully(): Promise<void> {
    this.#isClosed = true;
    await Promise.all(this.#running);
    await this.destroy();
  }

  async #destroyNow(): Promise<void> {
    this.#isClosed = true;
    this.#isDestroyed = true;
    await this.#piscina.destroy();
    await Promise.all(this.#running);
  }

  async #run(req: RunFileRequest, modulePath: string): Promise<RunFileOutcome> {
    if (this.#isClosed) return cancelled('the processor pool is closed', 0);
    if (req.signal.aborted) return stopOutcome('cancelled', req, 0);
    const fileRun = new FileRun(req, this.#settings, () => {
      this.#queued--;
      this.#busy++;
    });
    this.#queued++;
    try {
      const settled = await fileRun.execute(this.#piscina, modulePath);
      return await fileRun.outcome(settled, this.#isDestroyed);
    } finally {
      if (fileRun.hasStarted) this.#busy--;
      else this.#queued--;
    }
  }
}

type Settled = { result: WorkerResult } | { error: unknown };

/** One file on its way through the pool: its port, its timers and why it was stopped. */
class FileRun {
  readonly #req: RunFileRequest;
  readonly #settings: Settings;
  readonly #onStarted: () => void;
  readonly #channel = new MessageChannel();
  /** Aborting it makes piscina drop the queued task or terminate its thread. */
  readonly #kill = new AbortController();
  #stopReason: StopReason | null = null;
  #startedAt: number | null = null;
  #isSettled = false;
  #timeoutTimer: NodeJS.Timeout | null = null;
  #graceTimer: NodeJS.Timeout | null = null;

  constructor(req: RunFileRequest, settings: Settings, onStarted: () => void) {
    this.#req = req;
    this.#settings = settings;
    this.#onStarted = onStarted;
  }

  /** Whether a thread took the task (the worker said so). */
  get hasStarted(): boolean {
    return this.#startedAt !== null;
  }

  /** Runs the task; resolves with piscina's result or rejection once the port is drained and closed. */
  async execute(piscina: Piscina<WorkerTask, WorkerResult>, modulePath: string): Promise<Settled> {
    const { port1, port2 } = this.#channel;
    const req = this.#req;
    const signalOnAbort = (): void => this.#stop('cancelled');
    port1.on('message', this.#portOnMessage);
    req.signal.addEventListener('abort', signalOnAbort, { once: true });
    const task: WorkerTask = {
      modulePath,
      file: req.file,
      options: req.options,
      outputPath: req.outputPath,
      progressIntervalMs: this.#settings.progressIntervalMs,
      port: port2,
    };
    try {
      return { result: await piscina.run(task, { transferList: [port2], signal: this.#kill.signal }) };
    } catch (error) {
      return { error };
    } finally {
      this.#isSettled = true;
      req.signal.removeEventListener('abort', signalOnAbort);
      // Port messages and the result travel on different ports, which Node does not
      // order: read what the worker posted before its result, then close the port,
      // which also closes the worker's end and frees both.
      for (let entry = receiveMessageOnPort(port1); entry !== undefined; entry = receiveMessageOnPort(port1)) {
        this.#portOnMessage(entry.message);
      }
      port1.off('message', this.#portOnMessage);
      port1.close();
      if (this.#timeoutTimer !== null) clearTimeout(this.#timeoutTimer);
      if (this.#graceTimer !== null) clearTimeout(this.#graceTimer);
    }
  }

  /** Turns what execute() got into the caller's outcome. */
  async outcome(settled: Settled, isPoolDestroyed: boolean): Promise<RunFileOutcome> {
    const durationMs = this.#startedAt === null ? 0 : Math.round(performance.now() - this.#startedAt);
    // Once a stop was asked for, the stop is the outcome, whatever the processor did
    // in the meantime: the caller has already decided the file's fate.
    if (this.#stopReason !== null) return stopOutcome(this.#stopReason, this.#req, durationMs);
    if ('error' in settled) {
      if (isPoolDestroyed) return cancelled('the processor pool was destroyed while the file ran', durationMs);
      // worker.ts turns every processor failure into a result, so a rejection means the thread died.
      const message = `the worker thread running the processor died: ${describe(settled.error)}`;
      return { ok: false, aborted: false, durationMs, error: { code: 'worker_crashed', message } };
    }
    const { result } = settled;
    if (!result.ok) return { ok: false, aborted: false, durationMs: Math.round(result.durationMs), error: result.error };
    const output = await isFile(this.#req.outputPath);
    return { ok: true, result: result.result, durationMs: Math.round(result.durationMs), output };
  }

  readonly #portOnMessage = (message: unknown): void => {
    if (!isWorkerMessage(message)) return;
    const req = this.#req;
    switch (message.type) {
      case 'started':
        this.#startedAt = performance.now();
        this.#onStarted();
        // --file-timeout counts processing time, not time spent waiting for a thread.
        if (req.timeoutMs !== null && !this.#isSettled) {
          this.#timeoutTimer = setTimeout(() => this.#stop('timeout'), req.timeoutMs);
        }
        return;
      case 'progress':
        // A stopped file is about to end as cancelled or timed out: its progress no longer matters.
        if (this.#stopReason === null) this.#callOnProgress(message.done, message.total, message.ts);
        return;
      case 'log':
        this.#settings.logger.info({ job: req.jobId, file: req.file.index, processor: req.processor }, message.message);
        return;
    }
  };

  #callOnProgress(done: number, total: number | null, ts: number): void {
    try {
      this.#req.onProgress(done, total, ts);
    } catch (err) {
      // Thrown from a port 'message' handler it would be an uncaught exception of the server.
      this.#settings.logger.error({ err, job: this.#req.jobId }, 'the onProgress callback threw');
    }
  }

  #stop(reason: StopReason): void {
    if (this.#stopReason !== null || this.#isSettled) return;
    this.#stopReason = reason;
    if (this.#startedAt === null) {
      // Still queued (or just handed to a thread): nothing to be polite to, drop it.
      this.#kill.abort();
      return;
    }
    this.#channel.port1.postMessage({ type: 'abort', reason } satisfies PoolMessage);
    this.#graceTimer = setTimeout(() => this.#kill.abort(), this.#settings.abortGraceMs);
  }
}
