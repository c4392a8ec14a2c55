// The pool of command processors (SPEC 4): long-lived child processes, each serving
// many files one at a time over the line protocol, up to --workers of them at once in
// all. A child that dies or breaks the protocol is not reused; the next file of its
// processor starts a new one.

import type { PoolSettings } from '../outcomes.js';
import { cancelled, stopOutcome } from '../outcomes.js';
import type { RunFileOutcome, RunFileRequest } from '../pool-types.js';
import type { ProcessorEntry } from '../registry.js';
import { CommandChild } from './command-child.js';
import { CommandFileRun } from './command-file.js';
import { GroupReaper } from './reaper.js';

type CommandEntry = Extract<ProcessorEntry, { kind: 'command' }>;

export class CommandPool {
  readonly #settings: PoolSettings;
  readonly #reaper: GroupReaper;
  /** Children alive (starting, idle or busy), at most `workers`. */
  readonly #live = new Set<CommandChild>();
  /** Idle children by processor name, oldest first. */
  readonly #idle = new Map<string, CommandChild[]>();
  readonly #runs = new Set<CommandFileRun>();
  /** Files waiting for one of the `workers` slots, first come first served; called with whether they got it. */
  readonly #waiting: Array<(granted: boolean) => void> = [];
  #busy = 0;
  #isClosed = false;
  #closing: Promise<void> | null = null;
  #destroying: Promise<void> | null = null;
  readonly #running = new Set<Promise<RunFileOutcome>>();

  constructor(settings: PoolSettings) {
    this.#settings = settings;
    this.#reaper = new GroupReaper(settings.logger);
  }

  /** Runs the command processor `entry` on `req.file`. Never rejects (outcomes as ThreadPool.run). */
  run(req: RunFileRequest, entry: CommandEntry): Promise<RunFileOutcome> {
    const running = this.#run(req, entry);
    this.#running.add(running);
    void running.finally(() => this.#running.delete(running));
    return running;
  }

  /** Children alive, children serving a file, files waiting for a slot. */
  stats(): { children: number; busy: number; queued: number } {
    return { children: this.#live.size, busy: this.#busy, queued: this.#waiting.length };
  }

  /** The pids of the children alive (tests check that they are gone after a stop). */
  pids(): number[] {
    return [...this.#live].map((child) => child.pid).filter((pid): pid is number => pid !== null);
  }

  /** Refuses new files, lets the running ones finish, then ends the children. Same promise every call. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#isClosed = true;
      await Promise.all(this.#running);
      await this.destroy();
    })();
    return this.#closing;
  }

  /**
   * Ends now: running files end `cancelled` (their children are killed), idle children
   * get end-of-file on stdin and abortGraceMs to exit before their group is killed.
   * Same promise every call.
   */
  destroy(): Promise<void> {
    this.#destroying ??= (async () => {
      this.#isClosed = true;
      for (const wake of this.#waiting.splice(0)) wake(false);
      for (const run of this.#runs) run.destroy();
      const children = [...this.#live];
      await Promise.all(children.map((child) => child.end(this.#settings.abortGraceMs)));
      await Promise.all(this.#running);
      this.#reaper.close();
    })();
    return this.#destroying;
  }

  async #run(req: RunFileRequest, entry: CommandEntry): Promise<RunFileOutcome> {
    if (this.#isClosed) return cancelled('the processor pool is closed', 0);
    if (req.signal.aborted) return stopOutcome('cancelled', req, 0);
    if (!(await this.#takeSlot(req.signal))) {
      return this.#isClosed ? cancelled('the processor pool is closed', 0) : stopOutcome('cancelled', req, 0);
    }
    let child: CommandChild | null = null;
    try {
      child = this.#childFor(req.processor, entry);
      const run = new CommandFileRun(req, child, this.#settings);
      this.#runs.add(run);
      try {
        return await run.run();
      } finally {
        this.#runs.delete(run);
      }
    } catch (err) {
      this.#settings.logger.error({ err, job: req.jobId, file: req.file.index }, 'the command pool failed to run a file');
      child?.kill();
      return { ok: false, aborted: false, durationMs: 0, error: { code: 'worker_crashed', message: 'the processor could not be started; see the server log' } };
    } finally {
      if (child !== null) this.#release(child);
      this.#giveSlot();
    }
  }

  /** A file is over: its slot goes to the first waiting file, or back to the pool. */
  #giveSlot(): void {
    const next = this.#waiting.shift();
    if (next !== undefined && !this.#isClosed) return next(true);
    this.#busy--;
    next?.(false);
  }

  /** Waits for a slot (counted in #busy once granted); false when `signal` aborted or the pool closed first. */
  #takeSlot(signal: AbortSignal): Promise<boolean> {
    if (this.#busy < this.#settings.workers && this.#waiting.length === 0) {
      this.#busy++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const wake = (granted: boolean): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(granted);
      };
      const onAbort = (): void => {
        const index = this.#waiting.indexOf(wake);
        if (index !== -1) this.#waiting.splice(index, 1);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(wake);
    });
  }

  /** An idle child of `processor`, or a new one (ending the oldest idle child of another processor when all slots hold one). */
  #childFor(processor: string, entry: CommandEntry): CommandChild {
    const idle = this.#idle.get(processor);
    while (idle !== undefined && idle.length > 0) {
      const child = idle.pop()!;
      if (child.state === 'idle') return child;
    }
    if (this.#live.size >= this.#settings.workers) this.#evictIdle();
    const child = new CommandChild(processor, entry, this.#settings.logger, this.#reaper);
    this.#live.add(child);
    void child.closed.then(() => {
      this.#live.delete(child);
      const list = this.#idle.get(child.processor);
      const index = list?.indexOf(child) ?? -1;
      if (index !== -1) list!.splice(index, 1);
    });
    return child;
  }

  #evictIdle(): void {
    for (const [name, list] of this.#idle) {
      const child = list.shift();
      if (list.length === 0) this.#idle.delete(name);
      if (child === undefined) continue;
      this.#live.delete(child);
      void child.end(this.#settings.abortGraceMs);
      return;
    }
  }

  /** After a file: an idle child waits for the next file of its processor; any other is killed. */
  #release(child: CommandChild): void {
    if (child.state === 'idle' && !this.#isClosed) {
      const list = this.#idle.get(child.processor) ?? [];
      list.push(child);
      this.#idle.set(child.processor, list);
      return;
    }
    if (child.state !== 'gone') child.kill();
  }
}
