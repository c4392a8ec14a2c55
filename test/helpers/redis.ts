// A real redis-server per test file (or per test, for the ones that stop, restart or
// reconfigure it): on a free loopback port, its files in a temp dir, killed after the test.
// Under CI=true a missing redis-server fails the test run (.ci/run installs it); on a
// developer machine without one, the Redis tests skip with the reason.

import { execFileSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { spawnTied } from './tied.js';

/** Why the Redis tests cannot run here, or null when they can. Under CI=true they never skip. */
export function redisSkipReason(): string | null {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    if (process.env.CI === 'true') throw new Error('redis-server is missing: .ci/run installs it');
    return 'no redis-server on this machine';
  }
}

export interface RedisOptions {
  /** appendonly yes (default false: the fastest, for contract tests). */
  appendonly?: boolean;
  /** appendfsync when appendonly (default always: nothing lost when Redis is killed). */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** Default noeviction (jobcast refuses the others). */
  maxmemoryPolicy?: string;
}

export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The running redis-server's pid. */
  pid(): number;
  /** Kills it (SIGKILL by default) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and files (after kill), and waits until it answers. */
  start(): Promise<void>;
  /** Its log file. */
  log(): Promise<string>;
}

let prefixes = 0;
/** A key prefix no other test of this process uses. */
export function uniquePrefix(name = 't'): string {
  return `jctest:${process.pid}:${name}${prefixes++}:`;
}

/** Resolves with a port nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves once something answers PING on the port with PONG; rejects after `timeoutMs`. */
async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let reply = '';
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk) => {
        reply += chunk;
        if (reply.includes('\r\n')) {
          socket.destroy();
          resolve(reply.startsWith('+PONG'));
        }
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts a redis-server; it is killed and its folder removed after the test (or, with `t` null, when the test process exits). */
export async function startRedis(t: TestContext | null, options: RedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'jobcast-redis-'));
  const port = await freePort();
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--logfile', join(dir, 'redis.log'),
    '--save', '', '--daemonize', 'no', '--protected-mode', 'no',
    '--appendonly', options.appendonly === true ? 'yes' : 'no',
    '--appendfsync', options.appendfsync ?? 'always',
    '--maxmemory-policy', options.maxmemoryPolicy ?? 'noeviction',
  ];
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const start = async (): Promise<void> => {
    const started = spawnTied('redis-server', args, { stdio: 'ignore' });
    child = started;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    await Promise.race([
      waitForPong(port, 20_000),
      exited.then(() => Promise.reject(new Error(`redis-server exited at start; see ${join(dir, 'redis.log')}`))),
    ]);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const running = child;
    if (running !== null && running.exitCode === null && running.signalCode === null) running.kill(signal);
    await exited;
  };
  await start();
  const cleanup = async (): Promise<void> => {
    await kill();
    await rm(dir, { recursive: true, force: true });
  };
  if (t !== null) t.after(cleanup);
  else {
    // Shared by the whole file: it goes when the test process does, which it must not hold up.
    (child as ChildProcess | null)?.unref();
    process.once('exit', () => {
      child?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    pid: () => child?.pid ?? -1,
    kill,
    start,
    log: () => readFile(join(dir, 'redis.log'), 'utf8').catch(() => ''),
  };
}

/** One redis-server for every test of this file, started at the first call. */
let shared: Promise<RedisServer> | null = null;
export function sharedRedis(): Promise<RedisServer> {
  shared ??= startRedis(null);
  return shared;
}
