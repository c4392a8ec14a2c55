// Pipelined requests (SPEC 7, "one client cannot take the server down"): a connection's
// requests are worked on one at a time, each once the answer before it has been handed
// over, and the connection is not read while answers wait. 2,000 `GET /jobs/{id}` of a
// large job in one write, never read, used to build 2,000 large answers at once: the
// server went from 170 MB to 1.6 GB and /healthz waited over 10 s.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSyntheticJob } from './helpers/synthetic-job.js';
import { PipelinedAnswers } from './helpers/raw-http.js';
import { FIXTURE_PROCESSORS, ON_UWS, spawnServer, startTestServer, tempDir } from './helpers/server.js';
import { TEST_HANG_MS } from './helpers/patience.js';

const MiB = 1024 * 1024;

/** Resident memory of a process, from /proc. */
function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A job whose snapshot is about 500 KB: 1,000 files with 250-character names. */
async function uploadLargeJob(base: string, processor = 'gated'): Promise<string> {
  const form = new FormData();
  form.append('processor', processor);
  // Two bytes in the first file: `gated` reports it half done (1 of 2), then holds it.
  for (let i = 0; i < 1000; i++) form.append('file', new Blob([i === 0 ? 'xx' : 'x']), `${String(i).padStart(4, '0')}-${'n'.repeat(245)}`);
  const res = await fetch(`${base}/jobs`, { method: 'POST', body: form });
  const body = (await res.json()) as { id: string };
  assert.equal(res.status, 202, JSON.stringify(body));
  return body.id;
}

async function seqOf(base: string, id: string): Promise<number> {
  return ((await (await fetch(`${base}/jobs/${id}`)).json()) as { seq: number }).seq;
}

/** Resolves with the job's seq once `gated` holds its first file half done: it stands still from then on. */
async function heldSeq(base: string, id: string): Promise<number> {
  for (;;) {
    const job = (await (await fetch(`${base}/jobs/${id}`)).json()) as { seq: number; files: Array<{ done: number }> };
    if (job.files[0]!.done === 1) return job.seq;
  }
}

// uws closes a connection whose next request arrives before its answer is complete
// (README, "Engines"): the tests of answers built one at a time run on the ws engine, the
// uws ones after them on uws.

if (!ON_UWS) test('2,000 pipelined GETs of a large job, never read: memory stays flat, /healthz answers, answers are built only as they can be sent', { timeout: TEST_HANG_MS }, async (t) => {
  const dir = await tempDir(t);
  const server = await spawnServer(t, [
    '--store', `sqlite:${join(dir, 'jobcast.db')}`, '--spool-dir', join(dir, 'spool'),
    '--processor-dir', FIXTURE_PROCESSORS, '--workers', '1',
  ]);
  const base = server.url;
  const port = Number(new URL(base).port);
  // `gated` holds the job mid-run until `release` appears beside the spool: its seq stands still till then.
  const id = await uploadLargeJob(base);
  const snapshotBytes = (await (await fetch(`${base}/jobs/${id}`)).text()).length;
  const seqBefore = await heldSeq(base, id);
  const pid = server.child.pid!;
  const baseline = rssOf(pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
  t.after(() => clearInterval(sampler));

  const attacker = await openSocket(port);
  const answers = new PipelinedAnswers(attacker);
  const request = `GET /jobs/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
  attacker.write(request.repeat(2000));

  // While the attacker holds its 2,000 requests: /healthz, and a read of the large job, answer.
  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(await seqOf(base, id), seqBefore, 'the job has not moved yet');
  await writeFile(join(dir, 'release'), '');
  for (let seq = seqBefore; seq === seqBefore; ) seq = await seqOf(base, id);
  clearInterval(sampler);
  const peakAboveMiB = (peak - baseline) / MiB;

  // Now the attacker reads. Answers built before the release carry the old seq; the
  // rest were built after it, once the ones before them had been taken.
  let read = 0;
  let laterSeq: number | null = null;
  while (read < 300 && laterSeq === null) {
    const answer = await answers.next();
    assert.ok(answer !== null, `the connection ended after ${read} answers`);
    assert.equal(answer.status, 200);
    read++;
    if (answer.json.seq !== seqBefore) laterSeq = answer.json.seq;
  }
  attacker.destroy();
  t.diagnostic(
    `snapshot ${Math.round(snapshotBytes / 1024)} KiB; server RSS ${Math.round(baseline / MiB)} MiB before, peak +${peakAboveMiB.toFixed(1)} MiB; ` +
      `${read - 1} answers were built before the job moved`,
  );
  assert.ok(laterSeq !== null, `all of the first ${read} answers were built before the job moved: the server did the work of answers nobody could read`);
  // 2,000 answers of ~500 KB each are a GiB; one answer at a time, a few MiB.
  assert.ok(peakAboveMiB < 100, `server RSS grew ${peakAboveMiB.toFixed(0)} MiB during the attack`);
});

test('a client that takes no byte of its waiting answers is cut off after the stall timeout', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, {}, { httpStallTimeoutMs: 300 });
  const id = await uploadLargeJob(server.url, 'sha256');
  const attacker = await openSocket(server.port);
  // Never read: the answers fill the kernel's buffers, then wait in the server.
  attacker.pause();
  const request = `GET /jobs/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
  attacker.write(request.repeat(2000));
  let error: NodeJS.ErrnoException | null = null;
  attacker.on('error', (err) => (error = err));
  // A paused socket notices the server's close only when it writes: one more request every 100 ms.
  let writes = 0;
  while (error === null && !attacker.destroyed && writes < 600) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    attacker.write(request);
    writes++;
  }
  t.diagnostic(`cut off after ${writes} writes: ${error === null ? 'no error' : (error as NodeJS.ErrnoException).code}`);
  assert.ok(error !== null || attacker.destroyed, 'the server closed the connection');
});

if (!ON_UWS) test('a client that pipelines 3,000 requests of every kind and reads gets every answer, in order', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const id = await createSyntheticJob(server);
  const socket = await openSocket(server.port);
  const answers = new PipelinedAnswers(socket);
  const kinds = [
    { request: `GET /jobs/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, status: 200, isHead: false },
    { request: 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n', status: 200, isHead: false },
    { request: 'GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', status: 404, isHead: false },
    { request: `HEAD /jobs/${id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, status: 200, isHead: true },
    { request: 'DELETE /jobs/nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', status: 404, isHead: false },
  ];
  const sent = Array.from({ length: 3000 }, (_, i) => kinds[i % kinds.length]!);
  socket.write(sent.map((kind) => kind.request).join(''));
  for (const [i, kind] of sent.entries()) {
    const answer = await answers.next(kind.isHead);
    assert.ok(answer !== null, `answer ${i} arrived`);
    assert.equal(answer.status, kind.status, `answer ${i}: ${kind.request.split('\r\n')[0]}`);
    if (i % kinds.length === 0) assert.equal(answer.json.id, id);
  }
  socket.destroy();
});

if (ON_UWS) test('on uws, 2,000 pipelined GETs of a large job, never read: the connection is closed, memory stays flat, /healthz answers', { timeout: TEST_HANG_MS }, async (t) => {
  const dir = await tempDir(t);
  const server = await spawnServer(t, ['--store', `sqlite:${join(dir, 'jobcast.db')}`, '--spool-dir', join(dir, 'spool'), '--processor-dir', FIXTURE_PROCESSORS, '--workers', '1']);
  const base = server.url;
  const id = await uploadLargeJob(base);
  await heldSeq(base, id);
  const pid = server.child.pid!;
  const baseline = rssOf(pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
  t.after(() => clearInterval(sampler));

  const attacker = await openSocket(Number(new URL(base).port));
  attacker.pause();
  const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
  attacker.on('error', () => {});
  attacker.write(`GET /jobs/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(2000));
  // An answer the kernel does not take in full stays unfinished, and the next request closes the connection.
  attacker.resume();
  await closed;
  clearInterval(sampler);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  assert.equal((await fetch(`${base}/jobs/${id}`)).status, 200);
  const peakAboveMiB = (peak - baseline) / MiB;
  t.diagnostic(`server RSS ${Math.round(baseline / MiB)} MiB before, peak +${peakAboveMiB.toFixed(1)} MiB`);
  // 2,000 answers of ~500 KB each are a GiB; what the kernel holds and one answer, a few MiB.
  assert.ok(peakAboveMiB < 100, `server RSS grew ${peakAboveMiB.toFixed(0)} MiB during the attack`);
});

if (ON_UWS) test('on uws, pipelined requests answered at once come back in order; one behind an unfinished answer closes the connection', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const quick = await openSocket(server.port);
  const answers = new PipelinedAnswers(quick);
  quick.write(['/healthz', '/nowhere', '/healthz'].map((path) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
  assert.deepEqual([(await answers.next())?.status, (await answers.next())?.status, (await answers.next())?.status], [200, 404, 200]);
  quick.destroy();
  // An event stream is never complete: the request behind it closes the connection, without a hang.
  const id = await createSyntheticJob(server);
  const behind = await openSocket(server.port);
  const closed = new Promise<void>((resolve) => behind.once('close', () => resolve()));
  behind.on('error', () => {});
  behind.write(`GET /jobs/${id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  await closed;
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the server goes on serving');
});
