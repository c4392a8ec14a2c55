// SPEC 7 responsiveness: processing never blocks the event loop. Proved by order, not
// by milliseconds: every worker runs a processor that spins for an hour without ever
// yielding (it would hold the event loop that long if it ran on it), and /healthz,
// GET /jobs/{id} and a WebSocket ping are answered while those files are still running.
// The figures (p50, p99 of /healthz with busy and idle workers) are in
// bench/responsiveness.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Snapshot } from '../server/protocol/types.js';
import { createJob, getJob } from './helpers/http.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';
import { connectWs, waitFor } from './helpers/ws-client.js';
import { TEST_HANG_MS } from './helpers/patience.js';

const HOUR_MS = 3_600_000;

test('the server answers while every worker runs a processor that never yields', { timeout: TEST_HANG_MS }, async (t) => {
  const workers = 2;
  const server = await startTestServer(t, { workers, concurrency: workers, processorDir: FIXTURE_PROCESSORS });
  const ws = await connectWs(t, server.url);
  const jobs: Snapshot[] = [];
  for (let i = 0; i < workers; i++) {
    const job = await createJob(server.url, [{ name: `spin-${i}`, content: 'x' }], { processor: 'busy', options: JSON.stringify({ ms: HOUR_MS }) });
    await ws.subscribe(job.id);
    jobs.push(job);
  }
  // `busy` reports progress 0 just before its spin: once both have, both threads spin.
  // Its file.progress is the job's fourth event (after job.queued, job.started and
  // file.started), whether it came live or in the snapshot of the subscribe.
  const hasSpun = (id: string): boolean => ws.tracker.view(id).lastSeq >= 4;
  await waitFor(() => jobs.every((job) => hasSpun(job.id)), 'both processors to spin');

  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${server.url}/healthz`);
    assert.deepEqual([res.status, await res.json()], [200, { ok: true }]);
  }
  await ws.roundTrip();
  // Answered while both files still run: neither spin is anywhere near its end.
  for (const job of jobs) {
    const snapshot = await getJob(server.url, job.id);
    assert.deepEqual([snapshot.status, snapshot.files[0]!.status], ['running', 'running'], 'the processor is still spinning');
  }
  const queue = (await (await fetch(`${server.url}/queue`)).json()) as { running: number };
  assert.equal(queue.running, workers, 'every worker busy');
  t.diagnostic(`50 /healthz, 2 GET /jobs and a WebSocket ping answered while ${workers} workers spin`);
  // A spin that never yields is stopped by terminating its thread, a second after the cancel.
  for (const job of jobs) await fetch(`${server.url}/jobs/${job.id}/cancel`, { method: 'POST' });
  for (const job of jobs) await ws.untilFinal(job.id);
});
