// The server under attack: `dist/server/main.js` in its own process, sqlite store and
// spool in a temp folder, with the flags an attack needs. Its RSS is read from /proc.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export class ServerProcess {
  readonly dir = mkdtempSync(join(tmpdir(), 'jobcast-bench-abuse-'));
  private child: ChildProcess | null = null;
  port = 0;

  /** Starts the server with `args` besides its own store, spool and port; resolves once it listens. */
  async start(args: readonly string[]): Promise<void> {
    const main = fileURLToPath(new URL('../../server/main.js', import.meta.url));
    const own = ['--port', '0', '--store', `sqlite:${join(this.dir, 'jobcast.db')}`, '--spool-dir', join(this.dir, 'spool'), '--workers', '1', '--retention', 'none'];
    const child = spawn(process.execPath, [main, ...own, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    this.port = await new Promise<number>((resolve, reject) => {
      let text = '';
      child.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening`)));
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        text += chunk;
        const match = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(text);
        if (match !== null) resolve(Number(match[1]));
      });
    });
    // Logs are not the subject here; keep the pipe drained.
    child.stdout!.resume();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
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

  /** SIGKILL: a server an attack left busy would take its time over SIGTERM. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
