// SPEC 3.2: `file.progress` of one file at most once per --progress-interval, measured
// on the events' `ts`; the latest value always arrives; superseded values are not
// emitted; nothing after the file's transition. A processor reports as fast as it can
// while the server's main thread is kept busy in bursts, as a loaded server's is: the
// worker's messages then wait and are read back to back. Whatever the machine's speed,
// every two consecutive progress events must carry `ts` at least the interval apart.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { JobEvent } from '../server/protocol/types.js';
import { createJob } from './helpers/http.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';
import { SseReader } from './helpers/sse-client.js';
import { connectWs } from './helpers/ws-client.js';
import { TEST_HANG_MS } from './helpers/patience.js';

const INTERVAL_MS = 10;
const REPORTS = 3000;

/** Holds this thread (the server's main thread too: the server runs in this process). */
function holdMainThread(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spinning
  }
}

test('file.progress ts are at least --progress-interval apart, the last value arrives, nothing after the transition', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { progressIntervalMs: INTERVAL_MS, processorDir: FIXTURE_PROCESSORS, logSize: 100_000 });
  const job = await createJob(server.url, [{ name: 'chatty.bin', content: 'x' }], { processor: 'chatty', options: JSON.stringify({ reports: REPORTS }) });
  const ws = await connectWs(t, server.url);
  await ws.subscribe(job.id);
  const view = ws.tracker.view(job.id);
  // Until the processor's last value has reached a client (it then waits for `release`):
  // the main thread busy for 25 ms at a time, then free for a moment. No time bound here:
  // if the last value never came, the test would time out, and fail.
  let bursts = 0;
  while (view.snapshot?.files[0]!.done !== REPORTS) {
    holdMainThread(25);
    bursts++;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await writeFile(join(server.dir, 'release'), '');
  await ws.untilFinal(job.id);

  const events = (await new SseReader(await fetch(`${server.url}/jobs/${job.id}/events?since=0`)).rest())
    .map((m) => JSON.parse(m.data) as JobEvent);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'the whole log, from seq 1');
  const progress = events.filter((e): e is Extract<JobEvent, { name: 'file.progress' }> => e.name === 'file.progress');
  const completedAt = events.findIndex((e) => e.name === 'file.completed');
  assert.ok(progress.length >= 2, `${progress.length} progress events`);
  assert.ok(completedAt > 0 && events.slice(completedAt).every((e) => e.name !== 'file.progress'), 'no progress after file.completed');
  const gaps = progress.slice(1).map((e, i) => e.ts - progress[i]!.ts);
  const closest = Math.min(...gaps);
  t.diagnostic(`${progress.length} progress events over ${bursts} busy bursts; closest ts ${closest} ms apart (interval ${INTERVAL_MS} ms)`);
  assert.ok(closest >= INTERVAL_MS, `consecutive progress ts ${closest} ms apart: ${JSON.stringify(gaps.filter((g) => g < INTERVAL_MS))}`);
  const dones = progress.map((e) => e.data.done);
  assert.ok(dones.every((done, i) => i === 0 || done > dones[i - 1]!), 'each progress event newer than the one before');
  assert.equal(dones.at(-1), REPORTS, 'the latest value arrived (trailing)');
});
