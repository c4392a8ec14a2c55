// Command processors through the whole server: uploads processed by real python3 and sh
// children, progress pushed to WebSocket subscribers, outputs downloaded, and a kill -9
// of the server with children running (none left behind, the job resumes after restart).

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { JobEvent, Snapshot } from '../server/protocol/types.js';
import { createJob, pollJob } from './helpers/http.js';
import { pythonSkipReason, waitForPids, waitGone } from './helpers/processes.js';
import { REPO_ROOT, spawnServer, startTestServer, tempDir } from './helpers/server.js';
import { connectWs, eventLog } from './helpers/ws-client.js';

const skip = pythonSkipReason() ?? false;
const COMMANDS = join(REPO_ROOT, 'test/fixtures/commands');
const rows = (n: number) => Array.from({ length: n }, (_, i) => `row ${i},${i * 2}`).join('\n') + '\n';

test('a Python processor: live progress reaches a subscriber, results and outputs land', { skip }, async (t) => {
  const server = await startTestServer(t, { processorDir: COMMANDS, progressIntervalMs: 30 });
  const client = await connectWs(t, server.url);
  const job = await createJob(server.url, [{ name: 'a.csv', content: rows(60) }, { name: 'b.csv', content: rows(5) }], {
    processor: 'pyrows',
    options: JSON.stringify({ sleepMs: 5, write: true }),
  });
  await client.subscribe(job.id);
  const view = await client.untilFinal(job.id);
  const final = view.snapshot!;
  assert.equal(final.status, 'completed');
  assert.deepEqual(final.files.map((f) => (f.result as { lines: number }).lines), [60, 5]);
  assert.deepEqual(final.files.map((f) => f.output), [true, true]);
  const [first, second] = final.files.map((f) => (f.result as { pid: number }).pid);
  assert.equal(first, second, 'both files went to one process');

  const events = client.received.filter((m): m is JobEvent => m.type === 'event' && m.job === job.id);
  const progress = events.filter((e) => e.name === 'file.progress' && e.data.file === 0);
  assert.ok(progress.length >= 2, `the subscriber saw the first file move (${progress.length} progress events)`);
  const completedAt = events.findIndex((e) => e.name === 'file.completed' && e.data.file === 0);
  assert.ok(events.indexOf(progress[0]!) < completedAt, 'progress arrived while the file was running');

  const output = await fetch(`${server.url}/jobs/${job.id}/files/0/output`);
  assert.equal(output.status, 200);
  assert.equal(await output.text(), rows(60).toUpperCase());
});

test('a shell-script processor runs uploads like any other', async (t) => {
  const server = await startTestServer(t, { processorDir: COMMANDS });
  const processors = (await (await fetch(`${server.url}/processors`)).json()) as { processors: string[] };
  assert.ok(processors.processors.includes('count') && processors.processors.includes('pyrows'));
  const job = await createJob(server.url, [{ name: 'one', content: 'abc' }, { name: 'two', content: '' }], { processor: 'count' });
  const final = await pollJob(server.url, job.id);
  assert.equal(final.status, 'completed');
  assert.deepEqual(final.files.map((f) => (f.result as { bytes: number }).bytes), [3, 0]);
});

test('kill -9 of the server leaves no processor behind, and the restarted server resumes at the first unfinished file', { skip }, async (t) => {
  const dir = await tempDir(t);
  const store = `sqlite:${join(dir, 'jobcast.db')}`;
  const spoolDir = join(dir, 'spool');
  const args = ['--store', store, '--spool-dir', spoolDir, '--processor-dir', COMMANDS, '--concurrency', '2', '--workers', '2', '--progress-interval', '20ms'];
  const gate = join(dir, 'release');
  const recordPath = join(dir, 'record.txt');
  const pythonPids = join(dir, 'python-pids');
  const shellPids = join(dir, 'shell-pids');

  const server = await spawnServer(t, args);
  const files = ['f0.csv', 'f1.csv', 'f2.csv'].map((name) => ({ name, content: rows(4) }));
  // The second file waits at the gate; the processor also starts a helper in its group.
  const python = await createJob(server.url, files, {
    processor: 'pyrows',
    options: JSON.stringify({ gate, gateIndex: 1, recordPath, pidFile: pythonPids, grandchild: true }),
  });
  // A shell processor that ignores signals and the end of its stdin until the gate opens.
  const shell = await createJob(server.url, [{ name: 's0', content: 'x' }], {
    processor: 'count',
    options: JSON.stringify({ holdUntil: gate, pidFile: shellPids }),
  });
  await pollJob(server.url, python.id, (s: Snapshot) => s.files[1]!.status === 'running' && s.files[1]!.done > 0);
  await pollJob(server.url, shell.id, (s: Snapshot) => s.files[0]!.status === 'running');
  const pids = [...(await waitForPids(pythonPids, 4)), ...(await waitForPids(shellPids, 2))];

  assert.equal(await server.kill('SIGKILL'), 'SIGKILL');
  await waitGone(pids);

  await writeFile(gate, '');
  const restarted = await startTestServer(t, { store, spoolDir, processorDir: COMMANDS, concurrency: 2 });
  const [finalPython, finalShell] = await Promise.all([pollJob(restarted.url, python.id), pollJob(restarted.url, shell.id)]);
  assert.equal(finalPython.status, 'completed');
  assert.equal(finalShell.status, 'completed');
  const events = await eventLog(t, restarted.url, python.id);
  assert.deepEqual(events.filter((e) => e.name === 'job.requeued').map((e) => (e.data as { reason: string }).reason), ['restart']);
  // f0 finished before the kill and never ran again; f1 ran twice; f2 once.
  assert.deepEqual((await readFile(recordPath, 'utf8')).trim().split('\n'), ['f0.csv', 'f1.csv', 'f1.csv', 'f2.csv']);
});
