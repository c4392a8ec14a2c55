// Fencing in a running server (SPEC 6): once the job is taken from the process running
// it (a takeover, or a cancel whose notice never reached that process), the store
// refuses the run's next append, and the run stops at once: its processor is aborted
// and it writes nothing more. Another owner is played by an append without a fence
// through RunningServer.log, the seam for events no processor makes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueueStats } from '../server/protocol/types.js';
import { createJob, getJob, pollJob } from './helpers/http.js';
import { startTestServer } from './helpers/server.js';
import { eventLog } from './helpers/ws-client.js';
import { TEST_HANG_MS } from './helpers/patience.js';

const MIB = 1024 * 1024;
/** An hour per MiB: only a stop ends the file within the test, and progress keeps coming. */
const OPTIONS = JSON.stringify({ msPerMiB: 3_600_000 });

/** Polls GET /queue until no job runs: the server has no event for a run's end. The test's timeout bounds it. */
async function untilNoneRuns(baseUrl: string): Promise<void> {
  while (((await (await fetch(`${baseUrl}/queue`)).json()) as QueueStats).running !== 0) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const { what, taking } of [
  { what: 'taken over by another owner', taking: { name: 'job.requeued', data: { reason: 'restart', position: 1 } } },
  { what: 'cancelled by a process whose notice never arrived', taking: { name: 'job.cancelled', data: { durationMs: 1 } } },
] as const) {
  test(`a run whose job was ${what} stops at its next append and writes nothing more`, { timeout: TEST_HANG_MS }, async (t) => {
    const server = await startTestServer(t);
    const files = [{ name: 'long.bin', content: new Uint8Array(MIB) }, { name: 'never.bin', content: new Uint8Array(10) }];
    const job = await createJob(server.url, files, { processor: 'delay', options: OPTIONS });
    await pollJob(server.url, job.id, (s) => s.files[0]!.status === 'running' && s.files[0]!.done > 0);

    const taken = await server.log.append(job.id, taking);
    // The file needs an hour: only the abort that the refused append causes ends the run.
    await untilNoneRuns(server.url);
    const events = await eventLog(t, server.url, job.id);
    assert.equal(events.at(-1)!.seq, taken.seq, 'no event of the old run after the job was taken');
    assert.equal(events.at(-1)!.name, taking.name);
    const now = await getJob(server.url, job.id);
    assert.equal(now.seq, taken.seq);
    assert.equal(now.files[1]!.status, taken.files[1]!.status, 'the next file never started');
  });
}
