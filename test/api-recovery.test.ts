// Failures a processor can cause, seen through the HTTP API, and what a restart cleans up.

import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createJob, pollJob } from './helpers/http.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';

test('timeout, worker_crashed and processor_error fail their file; the others still run', async (t) => {
  const server = await startTestServer(t, { processorDir: FIXTURE_PROCESSORS, fileTimeoutMs: 300 });
  const timedOut = await pollJob(server.url, (await createJob(server.url, [{ name: 'slow', content: 'x' }], { processor: 'busy', options: '{"ms": 3600000}' })).id);
  assert.equal(timedOut.files[0]!.error!.code, 'timeout');
  assert.match(timedOut.files[0]!.error!.message, /--file-timeout/);

  const crashed = await pollJob(server.url, (await createJob(server.url, [{ name: 'a', content: 'x' }, { name: 'b', content: 'y' }], { processor: 'exit' })).id);
  assert.equal(crashed.status, 'failed');
  assert.deepEqual(crashed.files.map((f) => f.error!.code), ['worker_crashed', 'worker_crashed']);

  const thrown = await pollJob(server.url, (await createJob(server.url, [{ name: 'c.txt', content: 'x' }], { processor: 'throws' })).id);
  assert.deepEqual(thrown.files[0]!.error, { code: 'processor_error', message: 'deliberate failure on c.txt' });

  // The pool replaced the dead threads: a normal job still completes.
  const ok = await pollJob(server.url, (await createJob(server.url, [{ name: 'd', content: 'x' }])).id);
  assert.equal(ok.status, 'completed');
});

test('the memory store serves the same API and forgets everything at a restart', async (t) => {
  const first = await startTestServer(t, { store: 'memory' });
  const job = await pollJob(first.url, (await createJob(first.url, [{ name: 'a', content: 'abc' }])).id);
  assert.equal(job.status, 'completed');
  await first.close();
  const second = await startTestServer(t, { store: 'memory', spoolDir: first.config.spoolDir });
  assert.equal((await fetch(`${second.url}/jobs/${job.id}`)).status, 404);
  assert.deepEqual(await readdir(second.config.spoolDir), [], "the forgotten job's files were swept at start");
});

test('at start, spool entries that belong to no job are removed and jobs keep theirs', async (t) => {
  const first = await startTestServer(t);
  const job = await pollJob(first.url, (await createJob(first.url, [{ name: 'a', content: 'abc' }], { processor: 'gzip' })).id);
  await first.close();
  // What a crash in the middle of an upload leaves behind.
  await mkdir(join(first.config.spoolDir, 'V1StGXR8_Z5jdHi6B-myT'));
  await writeFile(join(first.config.spoolDir, 'V1StGXR8_Z5jdHi6B-myT', 'in-0'), 'partial');
  const second = await startTestServer(t, { store: first.config.store, spoolDir: first.config.spoolDir });
  assert.deepEqual(await readdir(second.config.spoolDir), [job.id]);
  assert.equal((await fetch(`${second.url}/jobs/${job.id}/files/0/output`)).status, 200);
});
