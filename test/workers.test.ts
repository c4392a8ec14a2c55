// The processor pool with real worker threads, real files and real processors.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { ConfigError } from '../server/config.js';
import type { Logger } from '../server/logger.js';
import type { ProcessorPool } from '../server/workers/pool.js';
import type { RunFileOutcome } from '../server/workers/pool-types.js';
import { loadProcessorRegistry } from '../server/workers/registry.js';
import { makeFile, request, startPool as startPoolOf, type PoolOverrides } from './helpers/pool.js';
import { TEST_HANG_MS } from './helpers/patience.js';

// Compiled tests live in dist/test/; the fixtures are plain JS in the source tree.
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/processors/', import.meta.url));
const CJS_FIXTURES = fileURLToPath(new URL('../../test/fixtures/processors-cjs/', import.meta.url));
const MIB = 1024 * 1024;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'jobcast-workers-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function startPool(t: TestContext, overrides: PoolOverrides = {}): Promise<ProcessorPool> {
  return startPoolOf(t, FIXTURES, { progressIntervalMs: 50, ...overrides });
}

function assertOk(outcome: RunFileOutcome): asserts outcome is Extract<RunFileOutcome, { ok: true }> {
  assert.ok(outcome.ok, `expected success, got ${JSON.stringify(outcome)}`);
}

function assertFailed(outcome: RunFileOutcome, code: string, aborted = false): asserts outcome is Extract<RunFileOutcome, { ok: false }> {
  assert.ok(!outcome.ok, `expected ${code}, got ${JSON.stringify(outcome)}`);
  assert.equal(outcome.error.code, code, outcome.error.message);
  assert.equal(outcome.aborted, aborted);
}

/** A pino logger writing JSON lines into `lines`, to read ctx.log output back. */
function capturingLogger(lines: Array<Record<string, unknown>>): Logger {
  return pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
}

test('sha256 streams the file and matches node:crypto', async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t);
  const content = randomBytes(3 * MIB + 17); // many 64 KiB stream chunks
  const cases = [await makeFile(dir, 'random.bin', content), await makeFile(dir, 'empty.bin', '')];
  for (const file of cases) {
    const outcome = await pool.run(request('sha256', file));
    assertOk(outcome);
    const bytes = file.size === 0 ? Buffer.alloc(0) : content;
    assert.deepEqual(outcome.result, { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: file.size });
    assert.equal(outcome.output, false);
  }
});

test('lines counts newline bytes plus an unterminated last line', async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t);
  const big = 'row,of,csv\n'.repeat(300_000) + 'tail without newline';
  const cases = [
    { input: '', lines: 0, what: 'empty file' },
    { input: 'a', lines: 1, what: 'one unterminated line' },
    { input: 'a\n', lines: 1, what: 'one terminated line' },
    { input: 'a\nb', lines: 2, what: 'last line unterminated' },
    { input: '\n\n', lines: 2, what: 'blank lines' },
    { input: 'a\r\nb\r\n', lines: 2, what: 'CRLF endings' },
    { input: big, lines: 300_001, what: 'several chunks' },
  ];
  // All at once: more files than threads, so some wait in the queue.
  const outcomes = await Promise.all(
    cases.map(async (c, i) => pool.run(request('lines', await makeFile(dir, `case-${i}.txt`, c.input)))),
  );
  outcomes.forEach((outcome, i) => {
    assertOk(outcome);
    assert.deepEqual(outcome.result, { lines: cases[i]!.lines, bytes: Buffer.byteLength(cases[i]!.input) }, cases[i]!.what);
  });
});

test('gzip writes an archive that gunzips to the input', async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t);
  const text = Buffer.from('jobcast progress line\n'.repeat(60_000));
  for (const content of [text, Buffer.alloc(0)]) {
    const file = await makeFile(dir, `in-${content.length}.txt`, content);
    const outcome = await pool.run(request('gzip', file, { outputPath: join(dir, 'out', `${file.name}.gz`) }));
    assertOk(outcome);
    assert.equal(outcome.output, true);
    const archive = await readFile(join(dir, 'out', `${file.name}.gz`));
    assert.ok(gunzipSync(archive).equals(content));
    const ratio = content.length === 0 ? 0 : archive.length / content.length;
    assert.deepEqual(outcome.result, { bytes: content.length, compressedBytes: archive.length, ratio });
  }
});

test('delay sleeps at least minMs and rejects a non-number option', async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t);
  const file = await makeFile(dir, 'one.bin', 'x');
  const slept = await pool.run(request('delay', file, { options: { minMs: 40 } }));
  assertOk(slept);
  assert.deepEqual(slept.result, { sleptMs: 40 });
  assert.ok(slept.durationMs >= 35, `slept only ${slept.durationMs}ms`);
  const invalid = await pool.run(request('delay', file, { options: { msPerMiB: 'fast' } }));
  assertFailed(invalid, 'processor_error');
  assert.match(invalid.error.message, /options\.msPerMiB must be a non-negative number/);
});

test('progress arrives monotonic, stamped at least progressIntervalMs apart', async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t, { progressIntervalMs: 50 });
  const file = await makeFile(dir, 'mib.bin', Buffer.alloc(MIB));
  const seen: Array<{ done: number; total: number | null; ts: number }> = [];
  const outcome = await pool.run(
    request('delay', file, { options: { msPerMiB: 600 }, onProgress: (done, total, ts) => void seen.push({ done, total, ts }) }),
  );
  assertOk(outcome);
  // delay reports every <= 20 ms. However long the machine makes the run take, the
  // promise is on the stamps: consecutive ones at least 50 ms apart. The first value goes
  // out at once and the second on the trailing timer, which is due long before delay's
  // last sleep: at least two.
  assert.ok(seen.length >= 2, `${seen.length} progress messages`);
  for (let i = 0; i < seen.length; i++) {
    assert.equal(seen[i]!.total, MIB);
    if (i === 0) continue;
    assert.ok(seen[i]!.done >= seen[i - 1]!.done, 'progress went backwards');
    assert.ok(seen[i]!.ts - seen[i - 1]!.ts >= 50, `stamps ${seen[i]!.ts - seen[i - 1]!.ts} ms apart`);
  }

  // With an interval (an hour) longer than the run can take, only the first value leaves
  // the thread: the ones still waiting when the processor returns are dropped (completion
  // implies 1).
  const slow = await startPool(t, { progressIntervalMs: 3_600_000 });
  const few: Array<[number, number | null]> = [];
  assertOk(await slow.run(request('delay', file, { options: { msPerMiB: 150 }, onProgress: (d, total) => void few.push([d, total]) })));
  assert.deepEqual(few, [[0, MIB]]);
});

test('a processor that throws or returns non-JSON fails with processor_error', async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t);
  const file = await makeFile(dir, 'input.txt', 'data');
  const thrown = await pool.run(request('throws', file));
  assertFailed(thrown, 'processor_error');
  assert.equal(thrown.error.message, 'deliberate failure on input.txt');
  const notJson = await pool.run(request('not-json', file));
  assertFailed(notJson, 'processor_error');
  assert.match(notJson.error.message, /not JSON-serialisable/);
  assertFailed(await pool.run(request('no-such-processor', file)), 'processor_error');
});

test('a dead worker thread is worker_crashed and the next file runs', async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t, { workers: 1 });
  const file = await makeFile(dir, 'input.txt', 'data');
  const exited = await pool.run(request('exit', file));
  assertFailed(exited, 'worker_crashed');
  assert.match(exited.error.message, /exited with code: 1/);
  const stray = await pool.run(request('stray-throw', file));
  assertFailed(stray, 'worker_crashed');
  assert.match(stray.error.message, /stray timer exploded/);
  assertOk(await pool.run(request('sha256', file)));
});

test('a processor that ignores the signal is stopped at the timeout by terminating its thread', { timeout: TEST_HANG_MS }, async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t, { workers: 1, abortGraceMs: 100 });
  const file = await makeFile(dir, 'input.txt', 'data');
  // It would spin for an hour: settling at all proves its thread was terminated.
  const outcome = await pool.run(request('busy', file, { options: { ms: 3_600_000 }, timeoutMs: 200 }));
  assertFailed(outcome, 'timeout');
  assert.equal(outcome.error.message, 'the processor took longer than --file-timeout (200ms)');
  assertOk(await pool.run(request('sha256', file)));
});

test('aborting req.signal stops a running delay cooperatively', { timeout: TEST_HANG_MS }, async (t) => {
  const dir = await tempDir(t);
  // An hour's grace and an hour's sleep: settling at all proves ctx.signal stopped it,
  // not thread termination and not the end of the sleep.
  const pool = await startPool(t, { abortGraceMs: 3_600_000 });
  const file = await makeFile(dir, 'input.txt', 'data');
  const controller = new AbortController();
  const onProgress = (): void => controller.abort();
  const outcome = await pool.run(request('delay', file, { options: { minMs: 3_600_000 }, signal: controller.signal, onProgress }));
  assertFailed(outcome, 'cancelled', true);
  const early = await pool.run(request('delay', file, { signal: AbortSignal.abort() }));
  assertFailed(early, 'cancelled', true);
});

test('CommonJS and ES module user processors load; ctx.log reaches the log', async (t) => {
  const dir = await tempDir(t);
  const logLines: Array<Record<string, unknown>> = [];
  const cjs = await startPool(t, { processorDir: CJS_FIXTURES, logger: capturingLogger(logLines) });
  const file = await makeFile(dir, 'a.txt', 'hello');
  const plain = await cjs.run(request('plain', file));
  assertOk(plain);
  assert.deepEqual(plain.result, { kind: 'commonjs', name: 'a.txt' });
  const compiled = await cjs.run(request('compiled', file));
  assertOk(compiled);
  assert.deepEqual(compiled.result, { kind: 'compiled-commonjs', size: 5 });
  assert.deepEqual(
    logLines.map(({ job, file, processor, msg }) => ({ job, file, processor, msg })),
    [{ job: 'job-1', file: 0, processor: 'plain', msg: 'plain saw a.txt' }],
  );

  const esm = await startPool(t);
  const recordPath = join(dir, 'record.txt');
  assertOk(await esm.run(request('recording', file, { options: { recordPath, minMs: 10 } })));
  assert.equal(await readFile(recordPath, 'utf8'), 'a.txt\n');
  const echo = await esm.run(request('echo', file, { options: { n: 1 } }));
  assertOk(echo);
  assert.deepEqual(echo.result, { file, options: { n: 1 }, outputPath: `${file.path}.out`, aborted: false });
});

test('a processor that spins without yielding leaves the main thread free: its timers fire while it runs', { timeout: TEST_HANG_MS }, async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t, { workers: 1, abortGraceMs: 100 });
  const file = await makeFile(dir, 'input.txt', 'data');
  const controller = new AbortController();
  let onSpinning: () => void = () => {};
  const spinning = new Promise<void>((resolve) => (onSpinning = resolve));
  let isSettled = false;
  // `busy` reports progress 0 just before a spin of an hour that would hold this thread that long.
  const run = pool.run(request('busy', file, { options: { ms: 3_600_000 }, signal: controller.signal, onProgress: () => onSpinning() }));
  void run.finally(() => (isSettled = true));
  await spinning;
  for (let tick = 0; tick < 20; tick++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(isSettled, false, 'twenty timer ticks on this thread while the processor still spins');
  controller.abort();
  assertFailed(await run, 'cancelled', true);
});

test('close waits for running files and refuses new ones; destroy cancels now', async (t) => {
  const dir = await tempDir(t);
  const pool = await startPool(t);
  const file = await makeFile(dir, 'input.txt', 'data');
  const running = pool.run(request('delay', file, { options: { minMs: 150 } }));
  const closing = pool.close();
  assert.equal(pool.close(), closing);
  assertFailed(await pool.run(request('sha256', file)), 'cancelled', true);
  assertOk(await running);
  await closing;

  const other = await startPool(t);
  let onStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  const long = other.run(request('delay', file, { options: { minMs: 3_600_000 }, onProgress: () => onStarted() }));
  await started;
  assert.deepEqual({ busy: other.stats().busy, queued: other.stats().queued }, { busy: 1, queued: 0 });
  const destroying = other.destroy();
  assert.equal(other.destroy(), destroying);
  await destroying;
  assertFailed(await long, 'cancelled', true);
  assert.equal(other.stats().threads, 0);
});

test('the registry lists built-ins and the regular *.js/*.mjs files of --processor-dir', async (t) => {
  const builtins = await loadProcessorRegistry(null);
  assert.deepEqual(builtins.names(), ['delay', 'gzip', 'lines', 'sha256']);
  assert.ok((await stat(builtins.pathOf('sha256'))).isFile());

  const dir = await tempDir(t);
  for (const name of ['good.mjs', 'also-good.js', '.hidden.mjs', '-dash.mjs', 'notes.txt']) await writeFile(join(dir, name), 'export default () => 1;');
  await mkdir(join(dir, 'folder.mjs'));
  await symlink(join(dir, 'good.mjs'), join(dir, 'link.mjs'));
  const registry = await loadProcessorRegistry(dir);
  assert.deepEqual(registry.names(), ['also-good', 'delay', 'good', 'gzip', 'lines', 'sha256']);
  assert.equal(registry.pathOf('good'), join(dir, 'good.mjs'));
  assert.equal(registry.has('link'), false);
});

test('the registry refuses a missing --processor-dir and a built-in name', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(loadProcessorRegistry(join(dir, 'missing')), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /--processor-dir .*missing.* cannot be read \(ENOENT\): point it at/);
    return true;
  });
  await writeFile(join(dir, 'sha256.mjs'), 'export default () => 1;');
  await assert.rejects(loadProcessorRegistry(dir), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /--processor-dir: .*sha256\.mjs.* the built-in processor 'sha256'; rename the file/);
    return true;
  });
});
