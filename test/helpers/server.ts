// Starting real jobcast servers for tests: in-process (fast) or as a child process
// (for kill -9). Both listen on 127.0.0.1 port 0 with their own temp store and spool,
// on the engine JOBCAST_TEST_ENGINE names (`ws`, the default, or `uws`): the whole suite
// runs on either with `JOBCAST_TEST_ENGINE=uws npm test`.

import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { spawnTied } from './tied.js';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer, type StartOptions } from '../../server/app.js';
import { DEFAULTS, type Config } from '../../server/config.js';
import type { EngineName } from '../../server/engines/engine.js';
import { createLogger } from '../../server/logger.js';

/** The repo's root, from dist/test/helpers/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Plain-JS processors used by tests. */
export const FIXTURE_PROCESSORS = join(REPO_ROOT, 'test/fixtures/processors');
const MAIN = join(REPO_ROOT, 'dist/server/main.js');

/** The engine every server a test starts runs on: JOBCAST_TEST_ENGINE, `ws` by default. */
export const TEST_ENGINE: EngineName = testEngine(process.env.JOBCAST_TEST_ENGINE);

function testEngine(value: string | undefined): EngineName {
  if (value === undefined || value === '' || value === 'ws') return 'ws';
  if (value === 'uws') return 'uws';
  throw new Error(`JOBCAST_TEST_ENGINE must be ws or uws, got '${value}'`);
}

/**
 * Whether the suite runs on the uws engine. A few behaviours differ there by design of
 * uWebSockets.js (README, "Engines"): the tests that meet them check what uws does instead.
 */
export const ON_UWS = TEST_ENGINE === 'uws';

/** `args` for `dist/server/main.js` with `--engine TEST_ENGINE` added, unless they name an engine themselves. */
export function withTestEngine(args: readonly string[]): string[] {
  return args.includes('--engine') ? [...args] : [...args, '--engine', TEST_ENGINE];
}

/** A fresh temp dir removed after the test. */
export async function tempDir(t: TestContext, prefix = 'jobcast-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An in-process server on a sqlite file in a temp dir, closed after the test. */
export async function startTestServer(
  t: TestContext,
  overrides: Partial<Config> = {},
  options: StartOptions = {},
): Promise<RunningServer & { dir: string }> {
  const dir = overrides.spoolDir === undefined ? await tempDir(t) : join(overrides.spoolDir, '..');
  const config: Config = Object.freeze({
    ...DEFAULTS,
    port: 0,
    store: `sqlite:${join(dir, 'jobcast.db')}`,
    spoolDir: join(dir, 'spool'),
    workers: 2,
    progressIntervalMs: 20,
    shutdownGraceMs: 2000,
    logLevel: 'silent',
    engine: TEST_ENGINE,
    ...overrides,
  } as Config);
  const server = await startServer(config, { logger: createLogger(process.env.JOBCAST_TEST_LOG ?? 'silent'), ...options });
  t.after(() => server.close());
  return Object.assign(server, { dir });
}

export interface ChildServer {
  url: string;
  /** The start-up log line (`jobcast listening`: url, engine, store...). */
  started: Record<string, unknown>;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Runs `node dist/server/main.js ARGS --port 0` (with `env` added, on TEST_ENGINE unless
 * ARGS name one) and resolves once it logs that it listens.
 */
export function spawnServer(t: TestContext, args: string[], env: Record<string, string> = {}): Promise<ChildServer> {
  const child = spawnTied(process.execPath, [MAIN, ...withTestEngine(args), '--port', '0', '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  t.after(() => kill());
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'jobcast listening') resolve({ url: entry.url!, started: entry, child, exited, kill });
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
}
