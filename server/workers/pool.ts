// The processor pool the job runner talks to (SPEC 4): JavaScript modules run in worker
// threads (thread-pool.ts), programs in any other language as long-lived child processes
// (commands/command-pool.ts). Both answer run() with the same outcomes.

import type { Logger } from '../logger.js';
import { CommandPool } from './commands/command-pool.js';
import { cancelled, checkPoolOptions, type PoolSettings } from './outcomes.js';
import type { RunFileOutcome, RunFileRequest } from './pool-types.js';
import type { ProcessorRegistry } from './registry.js';
import { ThreadPool } from './thread-pool.js';

/** Options of a ProcessorPool. */
export interface ProcessorPoolOptions {
  /** Most worker threads running processors at once, and most command processes alive at once (--workers). No default: config decides. */
  workers: number;
  /** Least time between two progress reports of one file (--progress-interval). */
  progressIntervalMs: number;
  /** Where processor names lead. */
  registry: ProcessorRegistry;
  /** Receives ctx.log lines, command processors' stderr and the pool's own warnings. */
  logger: Logger;
  /** Time a stopped processor gets to stop by itself before its thread or process group is killed. Default 1000. */
  abortGraceMs?: number;
}

/** Runs processors of both kinds; see run() for the outcomes. */
export class ProcessorPool {
  readonly #registry: ProcessorRegistry;
  readonly #settings: PoolSettings;
  readonly #threads: ThreadPool;
  /** Made with the first command file: a server with JavaScript processors only starts no process. */
  #commands: CommandPool | null = null;
  #isClosed = false;
  #closing: Promise<void> | null = null;
  #destroying: Promise<void> | null = null;

  /** Throws TypeError naming the option when one is invalid. */
  constructor(options: ProcessorPoolOptions) {
    const { registry, ...settings } = options;
    this.#registry = registry;
    this.#settings = checkPoolOptions(settings);
    this.#threads = new ThreadPool(this.#settings);
  }

  /**
   * Runs `req.processor` on `req.file`. Never rejects: every failure is an outcome
   * (`processor_error`, `timeout`, `worker_crashed`, or `cancelled` with `aborted: true`
   * when req.signal aborted or the pool was closed).
   */
  run(req: RunFileRequest): Promise<RunFileOutcome> {
    if (!this.#registry.has(req.processor)) {
      const message = `no processor named '${req.processor}' is registered`;
      return Promise.resolve({ ok: false, aborted: false, durationMs: 0, error: { code: 'processor_error', message } });
    }
    const entry = this.#registry.entryOf(req.processor);
    if (entry.kind === 'module') return this.#threads.run(req, entry.path);
    if (this.#isClosed) return Promise.resolve(cancelled('the processor pool is closed', 0));
    this.#commands ??= new CommandPool(this.#settings);
    return this.#commands.run(req, entry);
  }

  /** Threads alive, command processes alive, files running, and files waiting for a thread or a slot. */
  stats(): { threads: number; children: number; busy: number; queued: number } {
    const threads = this.#threads.stats();
    const commands = this.#commands?.stats() ?? { children: 0, busy: 0, queued: 0 };
    return { threads: threads.threads, children: commands.children, busy: threads.busy + commands.busy, queued: threads.queued + commands.queued };
  }

  /** Pids of the command processes alive. */
  commandPids(): number[] {
    return this.#commands?.pids() ?? [];
  }

  /** Refuses new files, waits for the running and queued ones, then ends threads and processes. Same promise every call. */
  close(): Promise<void> {
    this.#isClosed = true;
    this.#closing ??= Promise.all([this.#threads.close(), this.#commands?.close()]).then(() => undefined);
    return this.#closing;
  }

  /** Ends every thread and process now; running files end `cancelled` with `aborted: true`. Same promise every call. */
  destroy(): Promise<void> {
    this.#isClosed = true;
    this.#destroying ??= Promise.all([this.#threads.destroy(), this.#commands?.destroy()]).then(() => undefined);
    return this.#destroying;
  }
}
