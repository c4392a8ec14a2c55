// The HTTP API of SPEC 2 against a real server on loopback, real worker threads and a real SQLite file.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Snapshot } from '../server/protocol/types.js';
import { createJob, errorCode, getJob, pollJob, uploadFiles } from './helpers/http.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';
import { eventLog } from './helpers/ws-client.js';
import { TEST_HANG_MS } from './helpers/patience.js';

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const MiB = 1024 * 1024;

/**
 * The `gated` fixture holds a job's files mid-run until release(): a job that stays
 * running, or queued behind it, for as long as a test needs, however slow the machine.
 */
const GATED = { processor: 'gated' };
const WITH_FIXTURES = { processorDir: FIXTURE_PROCESSORS };
const release = (server: { dir: string }): Promise<void> => writeFile(join(server.dir, 'release'), '');

/** Ids of job folders left on the spool. */
async function spoolEntries(server: { config: { spoolDir: string } }): Promise<string[]> {
  return (await readdir(server.config.spoolDir)).filter((name) => !name.startsWith('.'));
}

test('sha256: a three-file upload completes with the right digests, timings and progress', async (t) => {
  const server = await startTestServer(t);
  const files = [
    { name: 'a.txt', content: 'hello\n' },
    { name: 'folder/b.bin', content: randomBytes(3 * MiB) },
    { name: 'empty.txt', content: '' },
  ];
  const res = await uploadFiles(server.url, files, { label: 'nightly batch' });
  assert.equal(res.status, 202);
  const created = (await res.json()) as Snapshot;
  assert.equal(res.headers.get('location'), `/jobs/${created.id}`);
  assert.match(created.id, /^[A-Za-z0-9_-]{21}$/);
  assert.equal(created.label, 'nightly batch');
  assert.equal(created.processor, 'sha256');
  assert.equal(created.status, 'queued');
  assert.equal(created.queuePosition, 1, 'next to start: a queued job has its position, even as it starts');
  assert.deepEqual(created.files.map((f) => [f.name, f.size]), [['a.txt', 6], ['folder/b.bin', 3 * MiB], ['empty.txt', 0]]);

  const final = await pollJob(server.url, created.id);
  assert.equal(final.status, 'completed');
  assert.equal(final.queuePosition, null);
  assert.deepEqual(final.progress, { filesTotal: 3, filesDone: 3, filesFailed: 0, bytesTotal: 3 * MiB + 6, fraction: 1 });
  files.forEach((f, i) => {
    const file = final.files[i]!;
    assert.deepEqual(file.result, { sha256: sha256(f.content), bytes: file.size });
    assert.equal(file.status, 'done');
    assert.ok(file.startedAt! >= final.startedAt! && file.finishedAt! >= file.startedAt!);
    assert.equal(typeof file.durationMs, 'number');
  });
  assert.ok(final.finishedAt! >= final.files[2]!.finishedAt!);
});

test('lines counts lines, gzip produces a downloadable output, delay sleeps', async (t) => {
  const server = await startTestServer(t);
  const text = 'one\ntwo\nthree';
  const lines = await pollJob(server.url, (await createJob(server.url, [{ name: 't.txt', content: text }, { name: 'n.txt', content: 'x\n' }], { processor: 'lines' })).id);
  assert.deepEqual(lines.files.map((f) => f.result), [{ lines: 3, bytes: 13 }, { lines: 1, bytes: 2 }]);

  const payload = Buffer.from('jobcast '.repeat(50_000));
  const gz = await pollJob(server.url, (await createJob(server.url, [{ name: 'dir/p.txt', content: payload }], { processor: 'gzip' })).id);
  const result = gz.files[0]!.result as { bytes: number; compressedBytes: number; ratio: number };
  assert.equal(result.bytes, payload.length);
  assert.ok(result.compressedBytes > 0 && result.compressedBytes < payload.length);
  assert.equal(gz.files[0]!.output, true);
  const out = await fetch(`${server.url}/jobs/${gz.id}/files/0/output`);
  assert.equal(out.status, 200);
  assert.match(out.headers.get('content-disposition')!, /p\.txt\.gz/);
  assert.deepEqual(gunzipSync(Buffer.from(await out.arrayBuffer())), payload);
  assert.equal(await errorCode(await fetch(`${server.url}/jobs/${gz.id}/files/1/output`)), 'output_not_found');
  assert.equal(await errorCode(await fetch(`${server.url}/jobs/${lines.id}/files/0/output`)), 'output_not_found');

  const delay = await pollJob(server.url, (await createJob(server.url, [{ name: 'd', content: 'x' }], { processor: 'delay', options: '{"minMs": 150}' })).id);
  assert.ok((delay.files[0]!.result as { sleptMs: number }).sleptMs >= 150);
  assert.ok(delay.files[0]!.durationMs! >= 150);
});

test('?wait returns the final snapshot when the job ends in time, else 202', async (t) => {
  const server = await startTestServer(t, WITH_FIXTURES);
  // The longest wait allowed: the answer comes when the job ends, however slow the machine.
  const done = await uploadFiles(server.url, [{ name: 'a', content: 'a' }], {}, '?wait=300');
  assert.equal(done.status, 200);
  assert.equal(((await done.json()) as Snapshot).status, 'completed');

  // A job that cannot end before the test releases it.
  const slow = await uploadFiles(server.url, [{ name: 'a', content: 'a' }], GATED, '?wait=0.1');
  assert.equal(slow.status, 202);
  assert.notEqual(((await slow.json()) as Snapshot).status, 'completed');

  for (const bad of ['301', '-1', 'soon', '']) {
    const res = await uploadFiles(server.url, [{ name: 'a', content: 'a' }], {}, `?wait=${bad}`);
    assert.equal(res.status, 400, bad);
    assert.equal(await errorCode(res), 'invalid_query');
  }
});

test('concurrency 1 runs jobs strictly one after another, in upload order', async (t) => {
  const server = await startTestServer(t, { concurrency: 1, ...WITH_FIXTURES });
  const jobs: Snapshot[] = [];
  for (let i = 0; i < 3; i++) jobs.push(await createJob(server.url, [{ name: `f${i}`, content: 'x' }], GATED));
  // The first job holds until release(): the queue stands still while the test looks.
  await pollJob(server.url, jobs[0]!.id, (s) => s.status === 'running');
  const queued = await getJob(server.url, jobs[2]!.id);
  assert.equal(queued.status, 'queued');
  assert.equal(queued.queuePosition, 2);
  const queue = (await (await fetch(`${server.url}/queue`)).json()) as Record<string, unknown>;
  assert.equal(queue.concurrency, 1);
  assert.equal(queue.queued, 2);
  assert.equal(queue.running, 1);
  assert.equal(typeof queue.oldestQueuedMs, 'number');

  await release(server);
  const finals = [];
  for (const job of jobs) finals.push(await pollJob(server.url, job.id));
  for (let i = 1; i < finals.length; i++) {
    assert.ok(finals[i]!.startedAt! >= finals[i - 1]!.finishedAt!, `job ${i} started after job ${i - 1} finished`);
  }
  const { processes, ...backlog } = (await (await fetch(`${server.url}/queue`)).json()) as Record<string, unknown>;
  assert.deepEqual(backlog, { queued: 0, running: 0, concurrency: 1, oldestQueuedMs: null });
  assert.deepEqual((processes as Array<{ pid: number }>).map((p) => p.pid), [process.pid], 'the one process');
});

test('concurrency 2 runs two jobs at once', async (t) => {
  const server = await startTestServer(t, { concurrency: 2, ...WITH_FIXTURES });
  const a = await createJob(server.url, [{ name: 'a', content: 'x' }], GATED);
  const b = await createJob(server.url, [{ name: 'b', content: 'x' }], GATED);
  // Both hold until release(): the second one starting proves two run at once.
  await pollJob(server.url, b.id, (s) => s.status === 'running');
  assert.equal((await getJob(server.url, a.id)).status, 'running');
  await release(server);
  const [fa, fb] = [await pollJob(server.url, a.id), await pollJob(server.url, b.id)];
  assert.ok(fb.startedAt! < fa.finishedAt!, 'the second job started before the first ended');
});

test('cancel a queued job and a running job; the next job still runs', async (t) => {
  // One worker, and a processor that never ends unless aborted (the test never releases it):
  // the next job can run only once the cancel has stopped it.
  const server = await startTestServer(t, { workers: 1, ...WITH_FIXTURES });
  const running = await createJob(server.url, [{ name: 'r1', content: 'x' }, { name: 'r2', content: 'y' }], GATED);
  const queued = await createJob(server.url, [{ name: 'q', content: 'x' }], GATED);
  const after = await createJob(server.url, [{ name: 'z', content: 'z' }]);
  await pollJob(server.url, running.id, (s) => s.files[0]!.status === 'running');

  const cq = await fetch(`${server.url}/jobs/${queued.id}/cancel`, { method: 'POST' });
  assert.equal(cq.status, 200);
  const cancelledQueued = (await cq.json()) as Snapshot;
  assert.equal(cancelledQueued.status, 'cancelled');
  assert.equal(cancelledQueued.queuePosition, null);
  assert.equal((await getJob(server.url, after.id)).queuePosition, 1);

  const cr = await fetch(`${server.url}/jobs/${running.id}/cancel`, { method: 'POST' });
  const cancelledRunning = (await cr.json()) as Snapshot;
  assert.equal(cancelledRunning.status, 'cancelled');
  assert.deepEqual(cancelledRunning.files.map((f) => f.status), ['cancelled', 'cancelled']);
  // The held processor was aborted, so the one worker is free for the next job.
  const next = await pollJob(server.url, after.id);
  assert.equal(next.status, 'completed');
  const final = await getJob(server.url, running.id);
  assert.equal(final.status, 'cancelled');
  assert.equal(final.seq, cancelledRunning.seq, 'nothing was logged after job.cancelled');

  const again = await fetch(`${server.url}/jobs/${running.id}/cancel`, { method: 'POST' });
  assert.equal(again.status, 409);
  assert.equal(await errorCode(again), 'job_finished');
});

test('DELETE forgets a finished job and its files, and refuses an active one', async (t) => {
  const server = await startTestServer(t, WITH_FIXTURES);
  const active = await createJob(server.url, [{ name: 'a', content: 'x' }], GATED);
  const refused = await fetch(`${server.url}/jobs/${active.id}`, { method: 'DELETE' });
  assert.equal(refused.status, 409);
  assert.equal(await errorCode(refused), 'job_active');
  await fetch(`${server.url}/jobs/${active.id}/cancel`, { method: 'POST' });

  const done = await pollJob(server.url, (await createJob(server.url, [{ name: 'g', content: 'gg' }], { processor: 'gzip' })).id);
  assert.ok((await spoolEntries(server)).includes(done.id));
  const res = await fetch(`${server.url}/jobs/${done.id}`, { method: 'DELETE' });
  assert.equal(res.status, 204);
  assert.equal(await errorCode(await fetch(`${server.url}/jobs/${done.id}`)), 'job_not_found');
  assert.ok(!(await spoolEntries(server)).includes(done.id));
});

test('GET /jobs lists newest first, pages with a cursor and filters by status', async (t) => {
  const server = await startTestServer(t);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await createJob(server.url, [{ name: `f${i}`, content: `${i}` }], { label: `job ${i}` })).id);
  for (const id of ids) await pollJob(server.url, id);
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await fetch(`${server.url}/jobs?limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
    const page = (await res.json()) as { jobs: Snapshot[]; next: string | null };
    assert.ok(page.jobs.length <= 2);
    seen.push(...page.jobs.map((j) => j.id));
    cursor = page.next;
  } while (cursor !== null);
  assert.deepEqual(seen, ids.slice().reverse());
  const completed = (await (await fetch(`${server.url}/jobs?status=completed`)).json()) as { jobs: Snapshot[]; next: null };
  assert.equal(completed.jobs.length, 5);
  assert.equal(completed.next, null);
  const none = (await (await fetch(`${server.url}/jobs?status=failed`)).json()) as { jobs: Snapshot[] };
  assert.deepEqual(none.jobs, []);
  for (const query of ['limit=0', 'limit=501', 'limit=ten', 'status=done', 'cursor=%%%']) {
    const res = await fetch(`${server.url}/jobs?${query}`);
    assert.equal(res.status, 400, query);
    assert.equal(await errorCode(res), 'invalid_query', query);
  }
});

test('GET /jobs?q= finds jobs by id, label or file name, with status and the cursor', async (t) => {
  const server = await startTestServer(t);
  const report = await createJob(server.url, [{ name: 'Reports/March.CSV', content: 'a' }], { label: 'Quarterly' });
  const photos = await createJob(server.url, [{ name: 'beach.jpg', content: 'b' }, { name: 'march-party.jpg', content: 'c' }]);
  for (let i = 0; i < 3; i++) await createJob(server.url, [{ name: `other-${i}.bin`, content: 'd' }]);
  for (const job of [report, photos]) await pollJob(server.url, job.id);
  const list = async (query: string) => {
    const res = await fetch(`${server.url}/jobs?${query}`);
    assert.equal(res.status, 200, query);
    const page = (await res.json()) as { jobs: Snapshot[]; next: string | null };
    return { ids: page.jobs.map((j) => j.id), next: page.next };
  };
  assert.deepEqual((await list('q=march')).ids, [photos.id, report.id], 'file names, any case, newest first');
  assert.deepEqual((await list('q=QUARTER')).ids, [report.id], 'label');
  assert.deepEqual((await list(`q=${encodeURIComponent(photos.id.slice(3, 12))}`)).ids, [photos.id], 'part of the id');
  assert.deepEqual((await list('q=reports%2Fmar&status=completed')).ids, [report.id]);
  assert.deepEqual((await list('q=march&status=failed')).ids, []);
  assert.equal((await list('q=')).ids.length, 5, 'an empty q lists every job');
  const first = await list('q=march&limit=1');
  assert.deepEqual(first.ids, [photos.id]);
  assert.deepEqual(await list(`q=march&limit=1&cursor=${encodeURIComponent(first.next!)}`), { ids: [report.id], next: null });
  for (const query of [`q=${'x'.repeat(201)}`, 'q=a%0Ab', 'q=%00']) {
    const res = await fetch(`${server.url}/jobs?${query}`);
    assert.equal(res.status, 400, query);
    assert.equal(await errorCode(res), 'invalid_query', query);
  }
});

test('route errors of SPEC 2.2', async (t) => {
  const server = await startTestServer(t);
  const cases: Array<[string, string, number, string]> = [
    ['GET', '/jobs/V1StGXR8_Z5jdHi6B-myT', 404, 'job_not_found'],
    ['GET', '/jobs/not..an..id', 404, 'job_not_found'],
    ['POST', '/jobs/V1StGXR8_Z5jdHi6B-myT/cancel', 404, 'job_not_found'],
    ['DELETE', '/jobs/V1StGXR8_Z5jdHi6B-myT', 404, 'job_not_found'],
    ['GET', '/jobs/V1StGXR8_Z5jdHi6B-myT/files/0/output', 404, 'job_not_found'],
    ['PUT', '/jobs', 405, 'method_not_allowed'],
    ['DELETE', '/queue', 405, 'method_not_allowed'],
    ['GET', '/nowhere', 404, 'not_found'],
    ['POST', '/healthz', 405, 'method_not_allowed'],
  ];
  for (const [method, path, status, code] of cases) {
    const res = await fetch(`${server.url}${path}`, { method });
    assert.equal(res.status, status, `${method} ${path}`);
    assert.equal(await errorCode(res), code, `${method} ${path}`);
  }
  const res = await fetch(`${server.url}/jobs`, { method: 'PUT' });
  assert.equal(res.headers.get('allow'), 'POST, GET');
});

test('upload errors leave no job and no spooled file', async (t) => {
  const server = await startTestServer(t, { maxFiles: 2, maxFileSize: 1000, maxUploadSize: 5000 });
  const cases: Array<{ what: string; send: () => Promise<Response>; status: number; code: string }> = [
    { what: 'not multipart', send: () => fetch(`${server.url}/jobs`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } }), status: 415, code: 'unsupported_media_type' },
    { what: 'no files', send: () => uploadFiles(server.url, [], { label: 'x' }), status: 400, code: 'no_files' },
    { what: 'unknown processor', send: () => uploadFiles(server.url, [{ name: 'a', content: 'a' }], { processor: 'nope' }), status: 400, code: 'unknown_processor' },
    { what: 'options not an object', send: () => uploadFiles(server.url, [{ name: 'a', content: 'a' }], { options: '[1]' }), status: 400, code: 'invalid_field' },
    { what: 'label too long', send: () => uploadFiles(server.url, [{ name: 'a', content: 'a' }], { label: 'x'.repeat(201) }), status: 400, code: 'invalid_field' },
    { what: 'failFast not boolean', send: () => uploadFiles(server.url, [{ name: 'a', content: 'a' }], { failFast: 'maybe' }), status: 400, code: 'invalid_field' },
    { what: 'file too large', send: () => uploadFiles(server.url, [{ name: 'a', content: 'a' }, { name: 'b', content: randomBytes(1001) }]), status: 413, code: 'file_too_large' },
    { what: 'too many files', send: () => uploadFiles(server.url, [1, 2, 3].map((i) => ({ name: `${i}`, content: 'x' }))), status: 413, code: 'too_many_files' },
    { what: 'upload too large', send: () => uploadFiles(server.url, [{ name: 'a', content: randomBytes(900) }], { label: 'x', options: JSON.stringify({ pad: 'y'.repeat(4500) }) }), status: 413, code: 'upload_too_large' },
  ];
  for (const c of cases) {
    const res = await c.send();
    assert.equal(res.status, c.status, c.what);
    assert.equal(await errorCode(res), c.code, c.what);
  }
  assert.deepEqual(await spoolEntries(server), []);
  const list = (await (await fetch(`${server.url}/jobs`)).json()) as { jobs: unknown[] };
  assert.deepEqual(list.jobs, []);
});

test('--token guards uploads, listing, cancel and delete, but not reading a job by id', async (t) => {
  const token = 'secret-token-123';
  const server = await startTestServer(t, { token });
  const denied = await uploadFiles(server.url, [{ name: 'a', content: 'a' }], {}, '', { authorization: 'Bearer wrong-token-000' });
  assert.equal(denied.status, 401);
  assert.equal(await errorCode(denied), 'unauthorized');
  // Authentication comes before the media type (SPEC 2.1).
  const plain = await fetch(`${server.url}/jobs`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } });
  assert.equal(await errorCode(plain), 'unauthorized');
  assert.equal((await fetch(`${server.url}/jobs`)).status, 401);

  const auth = { authorization: `Bearer ${token}` };
  const ok = await uploadFiles(server.url, [{ name: 'a', content: 'a' }], {}, '', auth);
  assert.equal(ok.status, 202);
  const job = (await ok.json()) as Snapshot;
  assert.equal((await fetch(`${server.url}/jobs/${job.id}`)).status, 200);
  assert.equal((await fetch(`${server.url}/jobs/${job.id}/cancel`, { method: 'POST' })).status, 401);
  assert.equal((await fetch(`${server.url}/jobs/${job.id}`, { method: 'DELETE' })).status, 401);
  assert.equal((await fetch(`${server.url}/jobs`, { headers: auth })).status, 200);
  assert.deepEqual(await spoolEntries(server), [job.id]);
});

test('--max-queued-jobs answers 503 queue_full with Retry-After', async (t) => {
  const server = await startTestServer(t, { maxQueuedJobs: 1, ...WITH_FIXTURES });
  const running = await createJob(server.url, [{ name: 'a', content: 'x' }], GATED);
  await pollJob(server.url, running.id, (s) => s.status === 'running');
  await createJob(server.url, [{ name: 'b', content: 'x' }], GATED);
  const res = await uploadFiles(server.url, [{ name: 'c', content: 'x' }]);
  assert.equal(res.status, 503);
  assert.equal(await errorCode(res), 'queue_full');
  assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
  assert.equal((await spoolEntries(server)).length, 2);
});

test('failed files: processor errors fail the job; failFast cancels what is left', async (t) => {
  const server = await startTestServer(t);
  const bad = { processor: 'delay', options: '{"msPerMiB": "slow"}' };
  const failed = await pollJob(server.url, (await createJob(server.url, [{ name: 'a', content: 'x' }, { name: 'b', content: 'y' }], bad)).id);
  assert.equal(failed.status, 'failed');
  assert.deepEqual(failed.files.map((f) => f.status), ['failed', 'failed']);
  assert.equal(failed.files[0]!.error!.code, 'processor_error');
  assert.equal(failed.error!.code, 'files_failed');
  assert.equal(failed.progress.filesFailed, 2);

  const fast = await pollJob(server.url, (await createJob(server.url, [{ name: 'a', content: 'x' }, { name: 'b', content: 'y' }], { ...bad, failFast: 'true' })).id);
  assert.equal(fast.status, 'failed');
  assert.equal(fast.failFast, true);
  assert.deepEqual(fast.files.map((f) => f.status), ['failed', 'cancelled']);
});

test('healthz, readyz and metrics', async (t) => {
  const server = await startTestServer(t);
  await pollJob(server.url, (await createJob(server.url, [{ name: 'a', content: 'abc' }])).id);
  assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { ok: true });
  assert.deepEqual(await (await fetch(`${server.url}/readyz`)).json(), { ok: true });
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /jobcast_jobs\{status="completed"\} 1/);
  assert.match(metrics, /jobcast_queue_depth 0/);
  assert.match(metrics, /jobcast_file_duration_seconds_count\{processor="sha256",status="done"\} 1/);
  assert.match(metrics, /jobcast_upload_bytes_total 3/);
  const page = await fetch(`${server.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type')!, /text\/html/);
});

test('--retention deletes finished jobs and their files', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { retentionMs: 1, ...WITH_FIXTURES });
  // The job holds until release(), so the test sees it running before the sweeper may take
  // it (a job that finished at once could be gone before the first poll saw it finish).
  const job = await createJob(server.url, [{ name: 'a', content: 'abc' }], GATED);
  await pollJob(server.url, job.id, (s) => s.status === 'running');
  await release(server);
  // The sweeper runs every second; poll until the job and its files are gone (never: the test times out).
  while ((await fetch(`${server.url}/jobs/${job.id}`)).status !== 404 || (await spoolEntries(server)).length > 0) {
    await new Promise((r) => setTimeout(r, 50));
  }
});

test('a graceful stop requeues the running job; a new server on the same store finishes it', async (t) => {
  const first = await startTestServer(t, { shutdownGraceMs: 50, ...WITH_FIXTURES });
  const slowFiles = [0, 1, 2].map((i) => ({ name: `f${i}`, content: 'x' }));
  // File 1 holds until release(), which comes only before the second server starts.
  const job = await createJob(first.url, slowFiles, { ...GATED, options: '{"hold": [1]}' });
  await pollJob(first.url, job.id, (s) => s.files[0]!.status === 'done' && s.files[1]!.status === 'running');
  await first.close();

  await release(first);
  const second = await startTestServer(t, { spoolDir: first.config.spoolDir, store: first.config.store, ...WITH_FIXTURES });
  const final = await pollJob(second.url, job.id);
  assert.equal(final.status, 'completed');
  const events = await eventLog(t, second.url, job.id);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seq is gapless');
  const requeued = events.filter((e) => e.name === 'job.requeued');
  assert.deepEqual(requeued.map((e) => (e.data as { reason: string }).reason), ['shutdown']);
  const completions = events.filter((e) => e.name === 'file.completed').map((e) => (e.data as { file: number }).file);
  assert.deepEqual(completions, [0, 1, 2], 'every file completed exactly once');
  assert.equal(final.files[0]!.finishedAt, (await getJob(second.url, job.id)).files[0]!.finishedAt);
});

test('a job reports per-file progress while it runs', async (t) => {
  // `gated` reports half and holds there until release(): the poll cannot miss the middle.
  const server = await startTestServer(t, WITH_FIXTURES);
  const job = await createJob(server.url, [{ name: 'big', content: randomBytes(2 * MiB) }], GATED);
  const mid = await pollJob(server.url, job.id, (s) => s.files[0]!.fraction > 0 && s.files[0]!.fraction < 1);
  assert.equal(mid.status, 'running');
  assert.ok(mid.progress.fraction > 0 && mid.progress.fraction < 1);
  assert.ok(mid.files[0]!.done > 0 && mid.files[0]!.total === 2 * MiB);
  const events = await eventLog(t, server.url, job.id);
  const progress = events.filter((e) => e.name === 'file.progress' && e.data.done > 0).at(-1);
  assert.ok(progress, 'a file.progress event with some work done was logged');
  const data = progress.data as { rate: number; etaMs: number; jobEtaMs: number };
  assert.ok(data.rate > 0 && data.etaMs >= 0 && data.jobEtaMs >= 0);
  await release(server);
  assert.equal((await pollJob(server.url, job.id)).status, 'completed');
});
