// Smaller ways one request used to hurt the server, each now answered with its SPEC code:
// deep `options` (500, and a dead worker thread per file), a lone surrogate in a
// `filename*` (its output download 500 for ever), --max-queued-jobs passed by concurrent
// uploads, HEAD of an SSE stream that never ended (and held the requests pipelined
// behind it), `//x/jobs/ID` served as `/jobs/ID`, and request bodies trickled for ever
// into routes that take none.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSyntheticJob } from './helpers/synthetic-job.js';
import { createJob, getJob, listJobs, pollJob, uploadFiles } from './helpers/http.js';
import { PipelinedAnswers, RawConnection, requestHead } from './helpers/raw-http.js';
import { FIXTURE_PROCESSORS, ON_UWS, startTestServer } from './helpers/server.js';
import { TEST_HANG_MS } from './helpers/patience.js';

/** `depth` levels of nested objects: {"a":{"a":...{}}}. */
function nested(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
}

test('options nested thousands deep get 400 invalid_field; 64 levels are passed to the processor', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { processorDir: FIXTURE_PROCESSORS });
  for (const depth of [65, 4000, 4500]) {
    const res = await uploadFiles(server.url, [{ name: 'a.txt', content: 'a' }], { processor: 'echo', options: nested(depth) });
    const body = (await res.json()) as any;
    assert.equal(res.status, 400, `${depth} levels: ${JSON.stringify(body).slice(0, 200)}`);
    assert.equal(body.error.code, 'invalid_field');
    assert.match(body.error.message, /nests deeper than 64 levels/);
  }
  assert.equal((await listJobs(server.url, 10)).length, 0, 'no job');
  const job = await createJob(server.url, [{ name: 'a.txt', content: 'a' }], { processor: 'echo', options: nested(64) });
  const done = await pollJob(server.url, job.id);
  assert.equal(done.status, 'completed', JSON.stringify(done.files[0]!.error));
  let level = done.files[0]!.result as any;
  let depth = 0;
  for (level = level.options; level !== undefined && Object.keys(level).length > 0; level = level.a) depth++;
  assert.equal(depth + 1, 64, 'the processor got all 64 levels');
});

test('a filename* holding half a UTF-16 surrogate pair is stored with U+FFFD, and its output downloads', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const boundary = 'surrogate-boundary';
  const body =
    `--${boundary}\r\nContent-Disposition: form-data; name="processor"\r\n\r\ngzip\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename*=utf-16le''a%00%3D%D8b%00\r\n` +
    `Content-Type: text/plain\r\n\r\nhello\r\n--${boundary}--\r\n`;
  const res = await fetch(`${server.url}/jobs`, { method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
  const job = (await res.json()) as any;
  assert.equal(res.status, 202, JSON.stringify(job));
  assert.equal(job.files[0].name, 'a\ufffdb');
  await pollJob(server.url, job.id);
  const output = await fetch(`${server.url}/jobs/${job.id}/files/0/output`);
  assert.equal(output.status, 200, await output.clone().text());
  assert.equal(output.headers.get('content-disposition'), `attachment; filename*=UTF-8''a%EF%BF%BDb.gz`);
  assert.ok((await output.arrayBuffer()).byteLength > 0);
});

test('--max-queued-jobs holds under concurrent uploads: the bodies end together, at most the limit wait', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { maxQueuedJobs: 5, processorDir: FIXTURE_PROCESSORS });
  // `gated` holds the first job running, so nothing leaves the queue meanwhile.
  const running = await createJob(server.url, [{ name: 'a.txt', content: 'a' }], { processor: 'gated' });
  await pollJob(server.url, running.id, (s) => s.status === 'running');
  const boundary = 'queue-boundary';
  const body =
    `--${boundary}\r\nContent-Disposition: form-data; name="processor"\r\n\r\ngated\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.txt"\r\n\r\nx\r\n--${boundary}--\r\n`;
  const head = requestHead('/jobs', { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length });
  // Thirty uploads past the early check, each one byte short of its end...
  const uploads = await Promise.all(Array.from({ length: 30 }, () => RawConnection.open(server.port)));
  await Promise.all(uploads.map((conn) => conn.write(head + body.slice(0, -1))));
  // ...then every last byte at once.
  for (const conn of uploads) conn.socket.write(body.slice(-1));
  const answers = await Promise.all(uploads.map((conn) => conn.response));
  for (const conn of uploads) conn.cut();
  const statuses = answers.map((answer) => answer?.status);
  const accepted = statuses.filter((status) => status === 202).length;
  t.diagnostic(`${accepted} accepted, ${statuses.filter((s) => s === 503).length} refused queue_full`);
  assert.ok(statuses.every((status) => status === 202 || status === 503), statuses.join(' '));
  const queue = (await (await fetch(`${server.url}/queue`)).json()) as { queued: number };
  // Released before the asserts: the server's close would otherwise wait out its grace.
  await writeFile(join(server.dir, 'release'), '');
  assert.ok(queue.queued <= 5, `${queue.queued} jobs wait with --max-queued-jobs 5`);
  assert.equal(accepted, 5, 'the queue filled up to its limit');
});

test('HEAD /jobs/{id}/events of a running job answers at once, and the request pipelined behind it is answered too', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  // A synthetic job stays running: nothing ever finishes it.
  const id = await createSyntheticJob(server);
  const conn = await RawConnection.open(server.port);
  const answers = new PipelinedAnswers(conn.socket);
  // uws closes a connection whose next request comes before its answer is complete
  // (README, "Engines"): there the next request follows the answer.
  const head = `HEAD /jobs/${id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
  const next = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  await conn.write(ON_UWS ? head : head + next);
  const headAnswer = await answers.next(true);
  assert.equal(headAnswer?.status, 200);
  assert.equal(headAnswer?.headers['content-type'], 'text/event-stream; charset=utf-8');
  if (ON_UWS) await conn.write(next);
  const health = await answers.next();
  assert.equal(health?.status, 200);
  assert.deepEqual(health?.json, { ok: true });
  assert.equal((await getJob(server.url, id)).status, 'running', 'answered while the job still runs');
  conn.cut();
});

test('paths starting with // or /\\ are not read as other routes', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const job = await createJob(server.url, [{ name: 'a.txt', content: 'a' }]);
  for (const path of [`//x/jobs/${job.id}`, `/\\x/jobs/${job.id}`, `//127.0.0.1/jobs/${job.id}`, '//x/healthz', `/\\/jobs/${job.id}`]) {
    const conn = await RawConnection.open(server.port);
    await conn.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const answer = await conn.response;
    conn.cut();
    assert.equal(answer?.status, 404, path);
    assert.equal(answer?.json.error.code, 'not_found', path);
  }
  // The same path written plainly is served.
  assert.equal((await fetch(`${server.url}/jobs/${job.id}`)).status, 200);
});

test('a body on a route that takes none is refused with 413 body_not_allowed, and a trickled one does not hold the connection', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const job = await createJob(server.url, [{ name: 'a.txt', content: 'a' }]);
  const sent = [
    requestHead('/healthz', { 'content-length': 2 }, 'GET') + '{}',
    requestHead(`/jobs/${job.id}`, { 'transfer-encoding': 'chunked' }, 'DELETE') + '0\r\n\r\n',
    requestHead(`/jobs/${job.id}/cancel`, { 'content-length': 5, 'content-type': 'application/json' }) + '{"a":',
  ];
  for (const bytes of sent) {
    const conn = await RawConnection.open(server.port);
    await conn.write(bytes);
    const answer = await conn.response;
    conn.cut();
    assert.equal(answer?.status, 413, bytes.split('\r\n')[0]);
    assert.equal(answer?.json.error.code, 'body_not_allowed');
  }
  assert.equal((await fetch(`${server.url}/jobs/${job.id}`)).status, 200, 'the DELETE with a body deleted nothing');
  // Content-Length: 0 is no body.
  const empty = await RawConnection.open(server.port);
  await empty.write(requestHead('/healthz', { 'content-length': 0, connection: 'close' }, 'GET'));
  assert.equal((await empty.response)?.status, 200);
  empty.cut();

  // A body announced at 1 MB and sent a byte every 100 ms: the connection is closed while the trickle goes on.
  const conn = await RawConnection.open(server.port);
  await conn.write(requestHead('/healthz', { 'content-length': 1_000_000 }, 'GET'));
  let trickled = 0;
  while (!conn.isClosedByServer && trickled < 300) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (!(await conn.write('x'))) break;
    trickled++;
  }
  await conn.closed;
  assert.equal((await conn.response)?.status, 413);
  assert.ok(trickled < 300, 'the server closed the connection before the trickle ended');
  t.diagnostic(`the trickling connection was closed after ${trickled} bytes`);
});
