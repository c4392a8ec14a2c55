// One long-lived child process of a command processor: started detached (it leads its
// own process group), fed requests on stdin, read line by line on stdout, its stderr
// logged. It serves one file at a time; the file being served listens to it through a
// ChildListener.

import { spawn, type ChildProcess } from 'node:child_process';
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../logger.js';
import type { ProcessorEntry } from '../registry.js';
import { LineSplitter } from './line-splitter.js';
import { MAX_LINE_BYTES, PROTOCOL_VERSION, parseChildLine, serverLine, type ChildLine, type ServerLine } from './protocol.js';
import type { GroupReaper } from './reaper.js';
import { StderrLog } from './stderr-log.js';

/** What the file being served hears from its child. */
export interface ChildListener {
  /** The child said `ready` (called at once if it already had). */
  onReady(): void;
  /** A protocol line other than `ready`. */
  onLine(line: ChildLine): void;
  /** The child broke the protocol; it is being killed. Called once, and onGone follows. */
  onViolation(reason: string): void;
  /**
   * The child is gone and its output is read to the end. `why` says how it ended
   * ("exited with code 3"), `stderrTail` its last stderr lines ('' for none), for an error message.
   */
  onGone(why: string, stderrTail: string): void;
}

/** stdout lines read per window before the child's stdout is paused until the window ends. */
const MAX_LINES_PER_WINDOW = 2000;
const WINDOW_MS = 100;

/** Where the Python helper lives (PYTHONPATH of every child): `python/` at the package root. */
const PYTHON_HELPER_DIR = fileURLToPath(new URL('../../../../python/', import.meta.url));

export type ChildState = 'starting' | 'idle' | 'busy' | 'gone';

export class CommandChild {
  readonly processor: string;
  readonly #process: ChildProcess;
  readonly #logger: Logger;
  readonly #reaper: GroupReaper;
  readonly #stderr: StderrLog;
  #state: ChildState = 'starting';
  #listener: ChildListener | null = null;
  /** The job and file being served, for log lines. */
  #serving: { job: string; file: number } | null = null;
  #isBroken = false;
  #goneWhy: string | null = null;
  #windowStartedAt = 0;
  #linesInWindow = 0;
  readonly #closed: Promise<void>;
  #resolveClosed: () => void = () => undefined;

  constructor(processor: string, entry: Extract<ProcessorEntry, { kind: 'command' }>, logger: Logger, reaper: GroupReaper) {
    this.processor = processor;
    this.#logger = logger;
    this.#reaper = reaper;
    const pythonPath = process.env.PYTHONPATH ? `${PYTHON_HELPER_DIR}${delimiter}${process.env.PYTHONPATH}` : PYTHON_HELPER_DIR;
    this.#process = spawn(entry.argv[0]!, entry.argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group: a stop kills the processor and whatever it started.
      detached: true,
      env: { ...process.env, JOBCAST_PROTOCOL: String(PROTOCOL_VERSION), PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1' },
    });
    if (this.#process.pid !== undefined) reaper.add(this.#process.pid);
    this.#stderr = new StderrLog(logger, () => this.#logContext());
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#process.once('close', () => this.#resolveClosed());
    this.#wire();
  }

  get state(): ChildState {
    return this.#state;
  }

  get pid(): number | null {
    return this.#process.pid ?? null;
  }

  /** Resolves once the child is gone and its pipes are closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Makes `listener` hear this child while it serves `serving`; its onReady runs at once if the child is ready. */
  attach(listener: ChildListener, serving: { job: string; file: number }): void {
    this.#listener = listener;
    this.#serving = serving;
    if (this.#state === 'gone') return listener.onGone(this.#goneWhy ?? 'is gone', this.#stderr.tail());
    if (this.#state === 'idle') {
      this.#state = 'busy';
      listener.onReady();
    }
  }

  /** The file is over: the child waits for the next one (if it is still alive). */
  detach(): void {
    this.#listener = null;
    this.#serving = null;
    if (this.#state === 'busy') this.#state = 'idle';
  }

  send(line: ServerLine): void {
    if (this.#state === 'gone') return;
    // A child that never reads stdin leaves this in the pipe and Node's buffer: at most
    // one request and one cancel are ever written per file, so the buffer stays small.
    this.#process.stdin?.write(serverLine(line));
  }

  /** Kills the child's whole process group now. */
  kill(): void {
    // Once gone, its group is empty and the number may already belong to someone else.
    if (this.#state === 'gone') return;
    const pid = this.#process.pid;
    if (pid === undefined || this.#process.exitCode !== null || this.#process.signalCode !== null) {
      if (pid !== undefined) killGroup(pid);
      return;
    }
    if (!killGroup(pid)) this.#process.kill('SIGKILL');
  }

  /** Closes stdin (a processor exits when it reads end-of-file); kills the group if it is still there after `graceMs`. */
  async end(graceMs: number): Promise<void> {
    this.#process.stdin?.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.#closed;
    clearTimeout(timer);
  }

  #wire(): void {
    const child = this.#process;
    const stdout = new LineSplitter({
      maxBytes: MAX_LINE_BYTES,
      onLine: (text) => this.#lineOnRead(text),
      onLongLine: () => this.#violate(`a stdout line is longer than ${MAX_LINE_BYTES} bytes`),
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      if (this.#isBroken) return;
      const now = Date.now();
      if (now - this.#windowStartedAt >= WINDOW_MS) {
        this.#windowStartedAt = now;
        this.#linesInWindow = 0;
      }
      stdout.push(chunk);
      if (this.#linesInWindow >= MAX_LINES_PER_WINDOW) this.#pauseStdout(this.#windowStartedAt + WINDOW_MS - now);
    });
    child.stderr!.on('data', (chunk: Buffer) => this.#stderr.push(chunk));
    // EPIPE when the child has gone: its exit is handled below.
    child.stdin!.on('error', () => undefined);
    child.once('error', (err) => {
      // Failed to start (no such program, no permission): no 'exit' may follow.
      if (child.pid !== undefined) return;
      this.#goneOnClose(`could not be started: ${err.message}`);
      this.#resolveClosed();
    });
    child.once('exit', (code, signal) => {
      // Whatever it started in its group goes with it, which also lets its pipes close
      // when a grandchild still holds them.
      if (child.pid !== undefined) killGroup(child.pid);
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      void this.#closed.then(() => this.#goneOnClose(how));
    });
  }

  #lineOnRead(text: string): void {
    if (this.#isBroken) return;
    this.#linesInWindow++;
    const parsed = parseChildLine(text);
    if (!parsed.ok) return this.#violate(parsed.reason);
    const { line } = parsed;
    if (line.type === 'ready') {
      if (this.#state !== 'starting') return this.#violate('"ready" was sent twice');
      this.#state = this.#listener === null ? 'idle' : 'busy';
      this.#listener?.onReady();
      return;
    }
    if (line.type === 'log' && this.#listener === null) {
      this.#logger.info(this.#logContext(), line.message);
      return;
    }
    if (this.#state === 'starting') return this.#violate(`"${line.type}" came before "ready"`);
    if (this.#listener === null) return this.#violate(`"${line.type}" came while no file was being processed`);
    this.#listener.onLine(line);
  }

  /** The child broke the protocol: nothing more it says counts, and it is killed. */
  #violate(reason: string): void {
    if (this.#isBroken) return;
    this.#isBroken = true;
    this.#logger.warn({ ...this.#logContext(), reason }, 'a command processor broke the protocol; it is killed and replaced');
    this.#listener?.onViolation(reason);
    this.kill();
  }

  /**
   * A flood of stdout lines would keep the main thread parsing: past the budget of a
   * window, stop reading until the window ends. The child's writes then block on the
   * full pipe, which is the backpressure it gets.
   */
  #pauseStdout(ms: number): void {
    const stdout = this.#process.stdout!;
    stdout.pause();
    setTimeout(() => stdout.resume(), Math.max(1, ms));
  }

  #goneOnClose(why: string): void {
    if (this.#state === 'gone') return;
    this.#state = 'gone';
    this.#goneWhy = why;
    if (this.#process.pid !== undefined) this.#reaper.remove(this.#process.pid);
    this.#listener?.onGone(why, this.#stderr.tail());
  }

  #logContext(): Record<string, unknown> {
    return { processor: this.processor, childPid: this.#process.pid, ...(this.#serving !== null && this.#serving) };
  }
}

/** SIGKILL to the process group `pgid`; false when there was no such group. */
function killGroup(pgid: number): boolean {
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}
