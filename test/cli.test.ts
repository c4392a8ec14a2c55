// The command-line client: `jobcast upload` and `jobcast watch` against a real server.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createJob } from './helpers/http.js';
import { FIXTURE_PROCESSORS, REPO_ROOT, startTestServer, tempDir } from './helpers/server.js';
import { TEST_HANG_MS } from './helpers/patience.js';

const CLI = join(REPO_ROOT, 'dist/cli/main.js');

/** Runs the CLI to its end; resolves with its exit code and output. */
function run(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('upload shows upload and per-file progress and exits 0 when the job completes', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { progressIntervalMs: 20 });
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a.txt'), 'a'.repeat(300_000));
  await writeFile(join(dir, 'é b.txt'), 'b'.repeat(200_000));
  const result = await run(['upload', 'a.txt', 'é b.txt', '--server', server.url, '--processor', 'delay', '--label', 'from the cli'], dir);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /upload \[#+\] 100%/);
  assert.match(result.stdout, /job \S+ completed/);
  assert.match(result.stdout, /\[#{20}\] 100%\s+é b\.txt/);
  const list = (await (await fetch(`${server.url}/jobs`)).json()) as { jobs: Array<{ label: string; files: Array<{ name: string; size: number }> }> };
  assert.equal(list.jobs[0]!.label, 'from the cli');
  assert.deepEqual(list.jobs[0]!.files.map((f) => [f.name, f.size]), [['a.txt', 300_000], ['é b.txt', 200_000]]);
});

test('upload exits 1 when the job fails, 2 when the server refuses', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { processorDir: FIXTURE_PROCESSORS });
  const dir = await tempDir(t);
  await writeFile(join(dir, 'x'), 'x');
  const failed = await run(['upload', 'x', '--server', server.url, '--processor', 'throws'], dir);
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /processor_error: deliberate failure on x/);
  const refused = await run(['upload', 'x', '--server', server.url, '--processor', 'nope'], dir);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /unknown_processor/);
});

test('watch follows a job by id until it ends', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { progressIntervalMs: 20 });
  const job = await createJob(server.url, [{ name: 'w', content: 'w'.repeat(200_000) }], { processor: 'delay' });
  const result = await run(['watch', job.id, '--server', server.url], REPO_ROOT);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`job ${job.id} completed`));
  const missing = await run(['watch', 'V1StGXR8_Z5jdHi6B-myT', '--server', server.url], REPO_ROOT);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no job has that id|not found/);
  // One id in 64 begins with '-': it is an id, not an option, before or after the flags.
  for (const args of [['watch', '-1StGXR8_Z5jdHi6B-myT', '--server', server.url], ['watch', '--server', server.url, '-1StGXR8_Z5jdHi6B-myT']]) {
    const dashed = await run(args, REPO_ROOT);
    assert.equal(dashed.code, 2);
    assert.match(dashed.stderr, /no job has that id|not found/, args.join(' '));
  }
});
