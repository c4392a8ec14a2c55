// Several jobcast processes on one Redis, as a deployment runs them: `serve` processes
// and `worker` processes (node dist/server/main.js), each a real child process with its
// own port, sharing one Redis (a redis-server of the test's own), one key prefix and one
// spool folder. Each process's JSON log lines are kept, so tests wait for what a process
// says (`waitForLog`) instead of sleeping, and can signal it (kill -9, SIGSTOP, SIGCONT).
// Everything is stopped after the test (or, given no test context, as in a benchmark
// script, when the calling process exits).

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { spawnTied } from './tied.js';
import { FIXTURE_PROCESSORS, REPO_ROOT, tempDir } from './server.js';
import type { Snapshot } from '../../server/protocol/types.js';
import { startRedis, uniquePrefix, type RedisOptions, type RedisServer } from './redis.js';
import { HANG_MS } from './patience.js';
import type { WsClient } from './ws-client.js';

const MAIN = join(REPO_ROOT, 'dist/server/main.js');

/** One JSON log line of a process (pino). */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface JobcastProcess {
  readonly role: 'serve' | 'worker';
  /** `http://127.0.0.1:PORT`: the API of a server, the operator routes of a worker. */
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Every log line so far, in order. */
  readonly logs: LogLine[];
  /** Resolves with the first line (already logged or to come) that `matches`; rejects after `timeoutMs` or at exit. */
  waitForLog(matches: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** Sends `signal` (default SIGKILL) unless the process has ended, and waits for its end. */
  kill(signal?: NodeJS.Signals): Promise<number | string>;
  /** Sends `signal` without waiting (SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void;
  readonly isRunning: boolean;
}

/** Runs `node dist/server/main.js [worker] ARGS --port 0` and resolves once it listens. */
export function spawnJobcast(t: TestContext | null, role: 'serve' | 'worker', args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<JobcastProcess> {
  const child = spawnTied(process.execPath, [MAIN, ...(role === 'worker' ? ['worker'] : []), ...args, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  const kill = (signal: NodeJS.Signals = 'SIGKILL'): Promise<number | string> => {
    if (isRunning()) {
      // A stopped process does not act on SIGTERM until it runs again.
      if (signal !== 'SIGKILL') child.kill('SIGCONT');
      child.kill(signal);
    }
    return exited;
  };
  if (t !== null) t.after(() => kill());
  else process.once('exit', () => isRunning() && child.kill('SIGKILL'));
  const logs: LogLine[] = [];
  const waiters = new Set<{ matches(line: LogLine): boolean; resolve(line: LogLine): void }>();
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    if (!text.startsWith('{')) return;
    const line = JSON.parse(text) as LogLine;
    logs.push(line);
    // JOBCAST_TEST_LOG=LEVEL prints the processes' lines at or above that pino level (30 info, 40 warn).
    if (process.env.JOBCAST_TEST_LOG !== undefined && line.level >= Number(process.env.JOBCAST_TEST_LOG)) console.error(`[${role} ${child.pid}] ${text}`);
    for (const waiter of waiters) if (waiter.matches(line)) waiter.resolve(line);
  });
  const waitForLog = (matches: (line: LogLine) => boolean, what: string, timeoutMs = HANG_MS): Promise<LogLine> => {
    const found = logs.find(matches);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        matches,
        resolve: (line: LogLine) => {
          cleanup();
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${role} ${child.pid} did not log ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onExit = (): void => {
        cleanup();
        reject(new Error(`${role} ${child.pid} exited before logging ${what}: ${stderr}`));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(waiter);
        child.off('exit', onExit);
      };
      waiters.add(waiter);
      child.once('exit', onExit);
    });
  };
  return waitForLog((line) => line.msg === 'jobcast listening', 'that it listens').then((line) => ({
    role,
    url: String(line.url),
    pid: child.pid!,
    child,
    exited,
    logs,
    waitForLog,
    kill,
    signal: (signal) => void (isRunning() && child.kill(signal)),
    get isRunning() {
      return isRunning();
    },
  }));
}

export interface ClusterOptions {
  /** Server processes to start (default 1). */
  servers?: number;
  /** Worker processes to start (default 0). */
  workers?: number;
  /** --lease (default 1s: takeovers within a test's patience). */
  lease?: string;
  /** More flags for every process. */
  args?: readonly string[];
  /** The Redis to use; default: a redis-server of this test's own with append-only persistence. */
  redis?: RedisServer;
  redisOptions?: RedisOptions;
  /** Environment for every process (JOBCAST_* settings). */
  env?: NodeJS.ProcessEnv;
}

export interface Cluster {
  readonly redis: RedisServer;
  /** The test's folder: the spool is `dir/spool`; fixture files may go here. */
  readonly dir: string;
  readonly prefix: string;
  /** The flags every process got (store, prefix, spool, processors, lease...). */
  readonly args: readonly string[];
  readonly servers: JobcastProcess[];
  readonly workers: JobcastProcess[];
  /** Starts one more server (added to `servers`). */
  addServer(extraArgs?: readonly string[]): Promise<JobcastProcess>;
  /** Starts one more worker (added to `workers`). */
  addWorker(extraArgs?: readonly string[]): Promise<JobcastProcess>;
  /** Every process started so far, servers first. */
  readonly all: JobcastProcess[];
}

/** Starts a Redis (unless given) and the servers and workers on it, all at once. */
export async function startCluster(t: TestContext | null, options: ClusterOptions = {}): Promise<Cluster> {
  const redis = options.redis ?? (await startRedis(t, { appendonly: true, ...options.redisOptions }));
  const dir = t !== null ? await tempDir(t, 'jobcast-cluster-') : await mkdtemp(join(tmpdir(), 'jobcast-cluster-'));
  if (t === null) process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const prefix = uniquePrefix('cluster');
  const args = [
    '--store', redis.url,
    '--redis-prefix', prefix,
    '--spool-dir', join(dir, 'spool'),
    '--processor-dir', FIXTURE_PROCESSORS,
    '--lease', options.lease ?? '1s',
    '--workers', '2',
    '--progress-interval', '20ms',
    '--shutdown-grace', '2s',
    '--log-level', 'info',
    ...(options.args ?? []),
  ];
  const servers: JobcastProcess[] = [];
  const workers: JobcastProcess[] = [];
  const addServer = async (extra: readonly string[] = []): Promise<JobcastProcess> => {
    const p = await spawnJobcast(t, 'serve', [...args, ...extra], options.env);
    servers.push(p);
    return p;
  };
  const addWorker = async (extra: readonly string[] = []): Promise<JobcastProcess> => {
    const p = await spawnJobcast(t, 'worker', [...args, ...extra], options.env);
    workers.push(p);
    return p;
  };
  await Promise.all([
    ...Array.from({ length: options.servers ?? 1 }, () => addServer()),
    ...Array.from({ length: options.workers ?? 0 }, () => addWorker()),
  ]);
  return {
    redis,
    dir,
    prefix,
    args,
    servers,
    workers,
    addServer,
    addWorker,
    get all() {
      return [...servers, ...workers];
    },
  };
}

/** Asserts that the client's view of every job equals its final snapshot, reached without gaps or duplicates. */
export function assertConverged(client: WsClient, finals: Map<string, Snapshot>, who: string): void {
  for (const [id, final] of finals) {
    const view = client.tracker.view(id);
    assert.deepEqual(view.gaps, [], `${who}: no gap in ${id}`);
    assert.deepEqual(view.duplicates, [], `${who}: no event of ${id} twice`);
    assert.deepEqual(view.snapshot, final, `${who}: the fold of ${id} is its final snapshot`);
  }
}
