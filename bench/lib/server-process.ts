// The server under a benchmark: `dist/server/main.js` in its own process, with a sqlite
// store and a spool in a temp folder of its own, on a free port of 127.0.0.1. What a
// benchmark measures of it (RSS) is read from /proc, the same way for every server.
// A server that exits before listening rejects start() with its exit code and stderr, so a
// benchmark can tell "cannot run here" (exit code 2, with the server's reason) from a failure.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../server/main.js', import.meta.url));

/** Exit code of a server whose settings cannot work here (server/main.ts): `--engine uws` without its native module, say. */
export const EXIT_CONFIG = 2;

/** The server exited before it listened: its exit code, and what it said on stderr (its reason, for exit code 2). */
export class ServerStartError extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`the server exited with ${exitCode} before listening${stderr === '' ? '' : `: ${stderr}`}`);
  }
}

export class ServerProcess {
  readonly dir: string;
  private child: ChildProcess | null = null;
  port = 0;

  /** `name` goes into the temp folder's name, so a leftover folder says which benchmark made it. */
  constructor(name: string) {
    this.dir = mkdtempSync(join(tmpdir(), `jobcast-bench-${name}-`));
  }

  /** Starts the server with `args` besides its own store, spool and port; resolves once it listens. */
  async start(args: readonly string[]): Promise<void> {
    const own = ['--port', '0', '--store', `sqlite:${join(this.dir, 'jobcast.db')}`, '--spool-dir', join(this.dir, 'spool'), '--log-level', 'info'];
    // stderr goes through this process, still shown, so that a server that refuses to
    // start can be reported with its own reason.
    const child = spawn(process.execPath, [MAIN, ...own, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    const keepStderr = (chunk: Buffer): void => void (stderr = (stderr + chunk.toString('utf8')).slice(0, 4096));
    child.stderr!.on('data', keepStderr);
    child.stderr!.pipe(process.stderr);
    this.port = await new Promise<number>((resolve, reject) => {
      let text = '';
      // 'close' rather than 'exit': by then stderr has been read to its end.
      child.once('close', (code) => reject(new ServerStartError(code, stderr.trim())));
      child.stdout!.setEncoding('utf8');
      const onData = (chunk: string): void => {
        text += chunk;
        const match = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(text);
        if (match === null) return;
        child.stdout!.off('data', onData);
        resolve(Number(match[1]));
      };
      child.stdout!.on('data', onData);
    });
    // Logs are not the subject here; keep the pipe drained.
    child.stdout!.resume();
    child.stderr!.off('data', keepStderr);
  }

  /** The server's process id (for /proc/PID/stat); 0 before start. */
  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** How the server ended ("exit code 1", "signal SIGSEGV") once it has, else null: for reporting a crash mid-run. */
  get ended(): string | null {
    const child = this.child;
    if (child === null) return null;
    if (child.signalCode !== null) return `signal ${child.signalCode}`;
    return child.exitCode === null ? null : `exit code ${child.exitCode}`;
  }

  /** Resident memory of the server process, in bytes (VmRSS), or 0 once it has exited. */
  rss(): number {
    try {
      const status = readFileSync(`/proc/${this.child!.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    } catch {
      return 0;
    }
  }

  /** Stops the server (SIGKILL unless told otherwise: a server an attack left busy would take its time) and removes its folder. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
