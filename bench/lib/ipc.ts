// Request/reply over the IPC channel of a forked child, for benchmarks that put each
// side (server, clients) in its own process so that neither shares the other's event loop.

import { fork, type ChildProcess } from 'node:child_process';

/** What a child sends up: its ready announcement, or the answer to one request. */
type ChildMessage =
  | { kind: 'ready'; value: unknown }
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string };

/** What the parent sends down. */
interface Request {
  kind: 'request';
  id: number;
  cmd: string;
  args: unknown;
}

export interface ForkOptions {
  /** Node flags for the child (`--expose-gc`, `--cpu-prof`). Default none. */
  execArgv?: string[];
  /** Longest wait for the child's ready announcement. Default 20 s. */
  readyTimeoutMs?: number;
}

/** A forked child that answers requests by command name. */
export class ChildHandle<Ready = unknown> {
  readonly ready: Promise<Ready>;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private readonly exited: Promise<number | string>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readyTimeoutMs: number,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    this.ready = new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within ${readyTimeoutMs} ms`)), readyTimeoutMs);
      child.on('message', (message: ChildMessage) => {
        if (message.kind === 'ready') {
          clearTimeout(timer);
          resolve(message.value as Ready);
        } else this.childOnReply(message);
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        const err = new Error(`${name} exited (${code})`);
        reject(err);
        for (const entry of this.waiting.values()) entry.reject(err);
        this.waiting.clear();
      });
    });
    this.ready.catch(() => {});
  }

  /** The child's process id (for /proc/PID/stat). */
  get pid(): number {
    return this.child.pid!;
  }

  /** Forks `modulePath` (a compiled .js file) with `args`; its stdout and stderr are inherited. */
  static fork<Ready>(name: string, modulePath: string, args: string[], options: ForkOptions = {}): ChildHandle<Ready> {
    const child = fork(modulePath, args, { execArgv: options.execArgv ?? [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new ChildHandle<Ready>(name, child, options.readyTimeoutMs ?? 20_000);
  }

  /** Sends a command; rejects when the child answers with an error, exits, or takes longer than `timeoutMs`. */
  request<T>(cmd: string, args: unknown = null, timeoutMs = 30_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: '${cmd}' got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const request: Request = { kind: 'request', id, cmd, args };
      this.child.send(request);
    });
  }

  /** Asks the child to exit (so that --cpu-prof gets written), then kills it after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.send({ kind: 'request', id: 0, cmd: 'exit', args: null } satisfies Request);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private childOnReply(message: Extract<ChildMessage, { kind: 'reply' }>): void {
    const entry = this.waiting.get(message.id);
    if (entry === undefined) return;
    this.waiting.delete(message.id);
    clearTimeout(entry.timer);
    if (message.ok) entry.resolve(message.value);
    else entry.reject(new Error(`${this.name}: ${message.error}`));
  }
}

export type Handlers = Record<string, (args: any) => unknown>;

/**
 * In the child: answers the parent's requests with `handlers` (sync or async), exits on
 * `exit`, and announces `ready`. Exits when the parent goes away, so no child outlives a run.
 */
export function serveParent(handlers: Handlers, ready: unknown): void {
  if (process.send === undefined) throw new Error('this script is a benchmark child: run the benchmark, not this file');
  process.on('message', (request: Request) => {
    if (request.cmd === 'exit') return void process.exit(0);
    const handler = handlers[request.cmd];
    Promise.resolve()
      .then(() => {
        if (handler === undefined) throw new Error(`unknown command '${request.cmd}'`);
        return handler(request.args);
      })
      .then(
        (value) => process.send!({ kind: 'reply', id: request.id, ok: true, value } satisfies ChildMessage),
        (err: unknown) => process.send!({ kind: 'reply', id: request.id, ok: false, error: String((err as Error)?.stack ?? err) } satisfies ChildMessage),
      );
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ kind: 'ready', value: ready } satisfies ChildMessage);
}
