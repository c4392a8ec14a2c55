// kill -9 of the server in the middle of a multi-file job, then a restart on the
// same store: the job completes, seq keeps increasing, no finished file runs twice.

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Snapshot } from '../server/protocol/types.js';
import { createJob, pollJob } from './helpers/http.js';
import { FIXTURE_PROCESSORS, spawnServer, startTestServer, tempDir } from './helpers/server.js';
import { eventLog } from './helpers/ws-client.js';
import { TEST_HANG_MS } from './helpers/patience.js';

const KILLS = 3;
const FILES = 6;

test(`the job survives ${KILLS} kill -9s mid-file and every finished file ran once`, { timeout: TEST_HANG_MS }, async (t) => {
  const dir = await tempDir(t);
  const store = `sqlite:${join(dir, 'jobcast.db')}`;
  const spoolDir = join(dir, 'spool');
  const recordPath = join(dir, 'record.txt');
  const args = ['--store', store, '--spool-dir', spoolDir, '--processor-dir', FIXTURE_PROCESSORS, '--progress-interval', '20ms', '--workers', '2'];
  // Each file holds at half its run until the test releases it: the kills land mid-file
  // however slow the machine.
  const release = (name: string): Promise<void> => writeFile(join(dir, `release-${name}`), '');
  const holdUntil = join(dir, 'release-{name}');

  let server = await spawnServer(t, args);
  const files = Array.from({ length: FILES }, (_, i) => ({ name: `part-${i}.bin`, content: `content ${i}` }));
  await release(files[0]!.name);
  const job = await createJob(server.url, files, { processor: 'recording', options: JSON.stringify({ recordPath, minMs: 250, holdUntil }) });

  let lastSeq = job.seq;
  for (let kill = 1; kill <= KILLS; kill++) {
    // Kill while file `kill` is held in the middle of its run (it has reported progress).
    const mid = await pollJob(server.url, job.id, (s: Snapshot) => s.files[kill]!.status === 'running' && s.files[kill]!.done > 0);
    assert.ok(mid.seq > lastSeq, `seq moved on after restart ${kill - 1}`);
    lastSeq = mid.seq;
    assert.equal(await server.kill('SIGKILL'), 'SIGKILL');
    if (kill < KILLS) server = await spawnServer(t, args);
    // Its second run, after the restart, may finish.
    await release(files[kill]!.name);
  }
  for (const file of files.slice(KILLS + 1)) await release(file.name);

  // The last run in-process, to read the store once the job is done.
  const last = await startTestServer(t, { store, spoolDir, processorDir: FIXTURE_PROCESSORS });
  const final = await pollJob(last.url, job.id);
  assert.equal(final.status, 'completed');
  assert.ok(final.seq > lastSeq);
  final.files.forEach((f, i) => assert.equal(f.status, 'done', `file ${i}`));

  const events = await eventLog(t, last.url, job.id);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seq is gapless from 1');
  const requeues = events.filter((e) => e.name === 'job.requeued');
  assert.deepEqual(requeues.map((e) => (e.data as { reason: string }).reason), Array(KILLS).fill('restart'), 'each crash was followed by job.requeued');

  // Every file completed exactly once in the log.
  const completed = events.filter((e) => e.name === 'file.completed').map((e) => (e.data as { file: number }).file);
  assert.deepEqual(completed, files.map((_, i) => i), 'every file completed once, in order');
  // A file ran once, plus once more for each crash that cut it mid-run; a finished file never ran again.
  const expectedRuns = files.map(() => 1);
  let runningFile: number | null = null;
  for (const e of events) {
    if (e.name === 'file.started') runningFile = e.data.file;
    if (e.name === 'file.completed' || e.name === 'file.failed') runningFile = null;
    if (e.name === 'job.requeued' && runningFile !== null) {
      expectedRuns[runningFile]!++;
      runningFile = null;
    }
  }
  const runs = (await readFile(recordPath, 'utf8')).trim().split('\n');
  assert.deepEqual(files.map((f) => runs.filter((name) => name === f.name).length), expectedRuns);
  assert.equal(expectedRuns.filter((n) => n === 2).length, KILLS, 'each kill cut one file mid-run');
});
