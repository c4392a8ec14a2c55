// SPEC 7 responsiveness: processing never blocks the event loop, so /healthz stays
// fast while CPU-heavy processors keep every worker thread busy.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJob, pollJob } from './helpers/http.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';

test('/healthz p99 stays under 50 ms over 200 requests while every worker burns CPU', async (t) => {
  const workers = 2;
  const server = await startTestServer(t, { workers, concurrency: workers, processorDir: FIXTURE_PROCESSORS });
  const jobs = [];
  for (let i = 0; i < workers; i++) {
    jobs.push(await createJob(server.url, [{ name: `spin-${i}`, content: 'x' }], { processor: 'cpu', options: '{"ms": 60000}' }));
  }
  for (const job of jobs) await pollJob(server.url, job.id, (s) => s.files[0]!.status === 'running');

  const latenciesMs: number[] = [];
  for (let i = 0; i < 200; i++) {
    const startedAt = performance.now();
    const res = await fetch(`${server.url}/healthz`);
    await res.arrayBuffer();
    latenciesMs.push(performance.now() - startedAt);
    assert.equal(res.status, 200);
  }
  latenciesMs.sort((a, b) => a - b);
  const p50 = latenciesMs[99]!;
  const p99 = latenciesMs[197]!;
  t.diagnostic(`healthz with ${workers} busy workers: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
  for (const job of jobs) assert.equal((await pollJob(server.url, job.id, () => true)).status, 'running', 'the workers were still busy');
  assert.ok(p99 < 50, `p99 ${p99.toFixed(1)} ms`);
  for (const job of jobs) await fetch(`${server.url}/jobs/${job.id}/cancel`, { method: 'POST' });
});
