// Command processors in the processor pool: real python3 and sh children speaking the
// line protocol, with real files, crashes, protocol violations, timeouts and cancels.

import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { ConfigError } from '../server/config.js';
import type { Logger } from '../server/logger.js';
import type { ProcessorPool } from '../server/workers/pool.js';
import type { ProcessorFile, RunFileOutcome } from '../server/workers/pool-types.js';
import { loadProcessorRegistry } from '../server/workers/registry.js';
import { makeFile as makeFileOf, request, startPool as startPoolOf, type PoolOverrides } from './helpers/pool.js';
import { isAlive, pythonSkipReason, readPids, waitForPids, waitGone } from './helpers/processes.js';
import { REPO_ROOT } from './helpers/server.js';

const skip = pythonSkipReason() ?? false;
const COMMANDS = join(REPO_ROOT, 'test/fixtures/commands');

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'jobcast-commands-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function startPool(t: TestContext, overrides: PoolOverrides = {}): Promise<ProcessorPool> {
  return startPoolOf(t, COMMANDS, { progressIntervalMs: 20, ...overrides });
}

function makeFile(dir: string, name: string, content: string): Promise<ProcessorFile> {
  return makeFileOf(dir, name, content, 'text/plain');
}

type Ok = Extract<RunFileOutcome, { ok: true }>;

function assertOk(outcome: RunFileOutcome): asserts outcome is Ok {
  assert.ok(outcome.ok, `expected success, got ${JSON.stringify(outcome)}`);
}

function assertFailed(outcome: RunFileOutcome, code: string, aborted = false): asserts outcome is Extract<RunFileOutcome, { ok: false }> {
  assert.ok(!outcome.ok, `expected ${code}, got ${JSON.stringify(outcome)}`);
  assert.equal(outcome.error.code, code, outcome.error.message);
  assert.equal(outcome.aborted, aborted);
}

function pidOf(outcome: RunFileOutcome): number {
  assertOk(outcome);
  return (outcome.result as { pid: number }).pid;
}

function capturingLogger(lines: Array<Record<string, unknown>>): Logger {
  return pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
}


const rows = (n: number) => Array.from({ length: n }, (_, i) => `row ${i}`).join('\n') + '\n';

test('the registry: executables and *.py files are commands named without their extension; other files are skipped', async (t) => {
  const registry = await loadProcessorRegistry(COMMANDS);
  assert.deepEqual(registry.names(), ['count', 'deaf', 'delay', 'gzip', 'lines', 'pyrows', 'sha256', 'violate']);
  assert.deepEqual(registry.entryOf('pyrows'), { kind: 'command', path: join(COMMANDS, 'pyrows.py'), argv: ['python3', join(COMMANDS, 'pyrows.py')] });
  assert.deepEqual(registry.entryOf('count'), { kind: 'command', path: join(COMMANDS, 'count.sh'), argv: [join(COMMANDS, 'count.sh')] });
  assert.equal(registry.entryOf('sha256').kind, 'module');

  const dir = await tempDir(t);
  await writeFile(join(dir, 'venv.py'), '#!/usr/bin/env python3\n');
  await chmod(join(dir, 'venv.py'), 0o755);
  await writeFile(join(dir, 'tool'), '#!/bin/sh\n');
  await chmod(join(dir, 'tool'), 0o700);
  await writeFile(join(dir, '_private.py'), '');
  await writeFile(join(dir, 'data.csv'), 'a,b\n');
  const mixed = await loadProcessorRegistry(dir);
  assert.deepEqual(mixed.names(), ['delay', 'gzip', 'lines', 'sha256', 'tool', 'venv']);
  // An executable *.py runs as itself, so its #! line can name a virtualenv's python.
  assert.deepEqual(mixed.entryOf('venv'), { kind: 'command', path: join(dir, 'venv.py'), argv: [join(dir, 'venv.py')] });

  await writeFile(join(dir, 'tool.py'), '');
  await assert.rejects(loadProcessorRegistry(dir), (err: unknown) => err instanceof ConfigError && /gives the name 'tool', already taken/.test(err.message));
});

test('one Python process serves many files: results, outputs, progress, ctx.log and print() reach the server', { skip }, async (t) => {
  const dir = await tempDir(t);
  const logs: Array<Record<string, unknown>> = [];
  const pool = await startPool(t, { logger: capturingLogger(logs) });
  const progress: Array<[number, number | null]> = [];
  const reportedAt: number[] = [];
  const onProgress = (done: number, total: number | null) => {
    progress.push([done, total]);
    reportedAt.push(performance.now());
  };
  const file = await makeFile(dir, 'a.csv', rows(40));
  const first = await pool.run(request('pyrows', file, { options: { write: true, sleepMs: 2 }, onProgress }));
  assertOk(first);
  assert.equal((first.result as { lines: number }).lines, 40);
  assert.equal(first.output, true);
  assert.equal(await readFile(`${file.path}.out`, 'utf8'), rows(40).toUpperCase());
  assert.ok(progress.length >= 1, 'progress was reported');
  assert.ok(progress.every(([done, total]) => total === file.size && done > 0 && done <= file.size));
  // The pool's interval is 20 ms (a busy machine only spaces reports further; timers may round down by 1 ms).
  reportedAt.slice(1).forEach((at, i) => assert.ok(at - reportedAt[i]! >= 19, `reports ${i} and ${i + 1} are ${at - reportedAt[i]!} ms apart`));

  const pids = new Set([pidOf(first)]);
  for (let i = 0; i < 3; i++) pids.add(pidOf(await pool.run(request('pyrows', await makeFile(dir, `b${i}.txt`, rows(3))))));
  assert.equal(pids.size, 1, 'every file went to the same long-lived process');
  assert.ok(logs.some((l) => l.msg === 'counted 40 lines in a.csv' && l.job === 'job-1' && l.processor === 'pyrows'), 'ctx.log is a server log line');
  assert.ok(logs.some((l) => l.msg === 'this goes to stderr, not to the protocol' && l.stream === 'stderr'), 'print() at the top went to stderr');

  const [pid] = pids;
  await pool.destroy();
  assert.equal(await isAlive(pid!), false, 'destroy ends the process');
});

test('a shell script is a processor too', { skip }, async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t);
  const progress: number[] = [];
  const outcome = await pool.run(request('count', await makeFile(dir, 'x.txt', 'hello\n'), { onProgress: (done) => progress.push(done) }));
  assertOk(outcome);
  assert.equal((outcome.result as { bytes: number }).bytes, 6);
  assert.deepEqual(progress, [6]);
});

test('a crash mid-file fails it with worker_crashed, naming the exit and the last stderr line; the next file gets a new process', { skip }, async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t);
  const before = pidOf(await pool.run(request('pyrows', await makeFile(dir, 'ok.txt', rows(2)))));
  const crashed = await pool.run(request('pyrows', await makeFile(dir, 'boom.txt', rows(5)), { options: { crashAfter: 2 } }));
  assertFailed(crashed, 'worker_crashed');
  assert.match(crashed.error.message, /exited with code 3 while processing the file \(last stderr: .*about to crash\)/);
  assert.equal(await isAlive(before), false);
  const after = pidOf(await pool.run(request('pyrows', await makeFile(dir, 'again.txt', rows(2)))));
  assert.notEqual(after, before);
});

test('a processor that cannot start fails the file with worker_crashed and its error', { skip }, async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'broken.py'), 'import no_such_module_here\n');
  const pool = await startPool(t, { processorDir: dir });
  const outcome = await pool.run(request('broken', await makeFile(dir, 'x.txt', 'x')));
  assertFailed(outcome, 'worker_crashed');
  assert.match(outcome.error.message, /exited with code 1 before it was ready \(last stderr: .*ModuleNotFoundError: No module named 'no_such_module_here'\)/);
});

test('protocol violations fail the file with processor_error and the process is replaced', { skip }, async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t);
  const file = await makeFile(dir, 'x.txt', 'x');
  const cases = [
    { mode: 'junk', message: /a stdout line is not JSON: "Loading model\.\.\. done" \(write logs to stderr/ },
    { mode: 'long', message: /a stdout line is longer than 1048576 bytes/ },
    { mode: 'type', message: /unknown line type "finished"/ },
  ];
  const pids = new Set<number>();
  for (const c of cases) {
    const outcome = await pool.run(request('violate', file, { options: { mode: c.mode } }));
    assertFailed(outcome, 'processor_error');
    assert.match(outcome.error.message, /^the processor broke the protocol: /);
    assert.match(outcome.error.message, c.message, c.mode);
    const pid = pidOf(await pool.run(request('violate', file, { options: { mode: 'ok' } })));
    assert.ok(!pids.has(pid), `a new process after ${c.mode}`);
    pids.add(pid);
  }
});

test('a processor that hangs past --file-timeout is killed with its whole process group, and replaced', { skip }, async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t, { abortGraceMs: 200 });
  const pidFile = join(dir, 'pids');
  const file = await makeFile(dir, 'x.txt', rows(3));
  const outcome = await pool.run(request('pyrows', file, { timeoutMs: 300, options: { stubborn: true, pidFile, grandchild: true } }));
  assertFailed(outcome, 'timeout');
  const [child, grandchild] = await readPids(pidFile);
  await waitGone([child!, grandchild!]);
  assert.notEqual(pidOf(await pool.run(request('pyrows', file))), child);
});

test('cancel: a processor that stops keeps its process for the next file; one that does not is killed after the grace', { skip }, async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t, { abortGraceMs: 300 });
  const file = await makeFile(dir, 'x.txt', rows(3));
  const pidFile = join(dir, 'pids');

  const polite = new AbortController();
  const running = pool.run(request('pyrows', file, { signal: polite.signal, options: { gate: join(dir, 'never'), pidFile } }));
  const [politePid] = await waitForPids(pidFile, 1);
  polite.abort();
  assertFailed(await running, 'cancelled', true);
  assert.equal(pidOf(await pool.run(request('pyrows', file))), politePid, 'the process that stopped by itself serves the next file');

  const stubbornPids = join(dir, 'stubborn-pids');
  const rude = new AbortController();
  const stuck = pool.run(request('pyrows', file, { signal: rude.signal, options: { stubborn: true, pidFile: stubbornPids } }));
  const [stubbornPid] = await waitForPids(stubbornPids, 1);
  rude.abort();
  assertFailed(await stuck, 'cancelled', true);
  await waitGone([stubbornPid!]);
});

test('a child that never reads stdin is stopped by --file-timeout and replaced', { skip }, async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t, { abortGraceMs: 200 });
  const file = await makeFile(dir, 'x.txt', 'x');
  // Options larger than a pipe's buffer: the request itself cannot be written whole.
  const options = { filler: 'f'.repeat(200 * 1024) };
  const outcome = await pool.run(request('deaf', file, { options, timeoutMs: 300 }));
  assertFailed(outcome, 'timeout');
  assert.deepEqual(pool.commandPids(), [], 'the deaf process is gone');
  const other = await pool.run(request('count', file));
  assertOk(other);
});

test('at most --workers command processes are alive; an idle one of another processor makes room', { skip }, async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t, { workers: 1 });
  const file = await makeFile(dir, 'x.txt', rows(2));
  const python = pidOf(await pool.run(request('pyrows', file)));
  const shell = pidOf(await pool.run(request('count', file)));
  assert.equal(pool.stats().children, 1);
  await waitGone([python]);
  const together = await Promise.all([pool.run(request('pyrows', file)), pool.run(request('count', file))]);
  together.forEach((outcome) => assertOk(outcome));
  assert.ok(pool.stats().children <= 1);
  assert.equal(await isAlive(shell), false);
});

test('stderr goes to the log line by line, each line cut at 8 KiB and at most 200 lines a second', { skip }, async (t) => {
  const dir = await tempDir(t);
  await writeFile(
    join(dir, 'noisy.py'),
    [
      'import sys',
      'from jobcast_processor import run',
      'def process(file, ctx):',
      '    sys.stderr.write("x" * 20000 + "\\n")',
      '    for i in range(5000):',
      '        sys.stderr.write(f"line {i}\\n")',
      '    sys.stderr.flush()',
      '    return {"ok": True}',
      'run(process)',
    ].join('\n'),
  );
  const logs: Array<Record<string, unknown>> = [];
  const pool = await startPool(t, { processorDir: dir, logger: capturingLogger(logs) });
  const startedAt = Date.now();
  assertOk(await pool.run(request('noisy', await makeFile(dir, 'x.txt', 'x'))));
  const windows = Math.ceil((Date.now() - startedAt) / 1000) + 1;
  // The drops are reported once, when the second they happened in is over.
  while (!logs.some((l) => typeof l.dropped === 'number')) await new Promise((resolve) => setTimeout(resolve, 20));
  const stderr = logs.filter((l) => l.stream === 'stderr');
  assert.equal((stderr[0]!.msg as string).length, 8 * 1024, 'a long line is cut');
  const dropped = logs.filter((l) => typeof l.dropped === 'number').reduce((sum, l) => sum + (l.dropped as number), 0);
  assert.equal(stderr.length + dropped, 5001, 'every line was logged or counted');
  assert.ok(stderr.length <= windows * 200, `at most 200 lines a second were logged (${stderr.length} in ${windows} windows)`);
});
