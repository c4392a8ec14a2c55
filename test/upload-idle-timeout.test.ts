// Slowloris (SPEC 7 "Bad input"): an upload body that stops arriving, or trickles in a
// byte a second, is cut off after --upload-idle-timeout of silence (default 30 s); the
// server's requestTimeout is off so that large uploads may take as long as they need.
// The servers here use 500 ms, and no --upload-min-rate where a test is about silence
// alone (test/upload-min-rate.test.ts covers the rate).

import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, DEFAULTS, loadConfig } from '../server/config.js';
import { listJobs } from './helpers/http.js';
import { RawConnection, requestHead, type RawResponse } from './helpers/raw-http.js';
import { HANG_MS } from './helpers/patience.js';
import { startTestServer } from './helpers/server.js';

const IDLE_MS = 500;
const B = 'idle-timeout-boundary';
const CONTENT_TYPE = `multipart/form-data; boundary=${B}`;
const FILE_HEAD = `--${B}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n\r\n`;
const END = `\r\n--${B}--\r\n`;

/** Polls `check` every 5 ms until it holds; fails with `what` after HANG_MS (a hang). */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + HANG_MS;
  while (!(await check())) {
    if (performance.now() > deadline) assert.fail(`never true: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Opens a POST /jobs announcing `length` body bytes and sends `first` of them. */
async function startUpload(port: number, length: number, first: string): Promise<RawConnection> {
  const conn = await RawConnection.open(port);
  await conn.write(requestHead('/jobs', { 'content-type': CONTENT_TYPE, 'content-length': length }) + first);
  return conn;
}

test('a client sending one byte per second is cut off after the idle timeout: 400, socket closed, no job, no file', async (t) => {
  const server = await startTestServer(t, { uploadIdleTimeoutMs: IDLE_MS, uploadMinRate: 0 });
  const body = `${FILE_HEAD}${'x'.repeat(60)}${END}`;
  const startedAt = performance.now();
  // One data byte too: busboy holds back a trailing CRLF (it may start a delimiter), so
  // without it the part's headers would not be complete yet.
  const conn = await startUpload(server.port, body.length, `${FILE_HEAD}x`);
  // The part's spool file exists while the upload is open: the cut-off must remove it.
  await until('the spool file of the open upload exists', async () => {
    const [jobDir] = (await readdir(join(server.dir, 'spool'))).filter((name) => !name.startsWith('.probe-'));
    return jobDir !== undefined && (await readdir(join(server.dir, 'spool', jobDir)).catch((): string[] => [])).includes('in-0');
  });
  let sentBytes = FILE_HEAD.length + 1;
  const trickle = setInterval(() => {
    void conn.write('x').then((isWritten) => isWritten && (sentBytes += 1));
  }, 1000);
  t.after(() => clearInterval(trickle));

  const response = (await conn.response) as RawResponse;
  const answeredAfterMs = performance.now() - startedAt;
  await conn.closed;
  clearInterval(trickle);

  assert.equal(response.status, 400);
  assert.equal(response.json.error.code, 'malformed_multipart');
  assert.match(response.json.error.message, new RegExp(`no body bytes arrived for ${IDLE_MS} ms`));
  assert.equal(response.headers.connection, 'close');
  assert.ok(conn.isClosedByServer && !conn.isCutByClient, 'the server closed the connection');
  // Not before the idle timeout; how long after is a busy machine's business, not a bound.
  assert.ok(answeredAfterMs >= IDLE_MS - 20, `cut off after ${Math.round(answeredAfterMs)} ms`);
  assert.ok(sentBytes < body.length, 'the body was never completed');
  assert.deepEqual(await readdir(join(server.dir, 'spool')), [], 'no spool file');
  assert.equal((await listJobs(server.url, 10)).length, 0, 'no job');
  t.diagnostic(`cut off ${Math.round(answeredAfterMs)} ms after the request began (${sentBytes} of ${body.length} bytes sent), with --upload-idle-timeout ${IDLE_MS}ms`);
});

test('a client that goes silent after the headers is cut off too', async (t) => {
  const server = await startTestServer(t, { uploadIdleTimeoutMs: IDLE_MS });
  const conn = await startUpload(server.port, 1000, '');
  const response = (await conn.response) as RawResponse;
  await conn.closed;
  assert.equal(response.status, 400);
  assert.equal(response.json.error.code, 'malformed_multipart');
  assert.ok(conn.isClosedByServer);
  assert.deepEqual(await readdir(join(server.dir, 'spool')), []);
});

test('a slow but steady client is not cut off: the clock restarts with every byte', async (t) => {
  // Here the client must never fall silent for the whole idle timeout: 3 s against a byte
  // every 100 ms, so only a hang of the test process could make it.
  const steadyIdleMs = 3000;
  const server = await startTestServer(t, { uploadIdleTimeoutMs: steadyIdleMs, uploadMinRate: 0 });
  const data = 'steady-client';
  const body = `${FILE_HEAD}${data.repeat(3)}${END}`;
  const conn = await startUpload(server.port, body.length, FILE_HEAD);
  const startedAt = performance.now();
  // 39 bytes, one every 100 ms: 3.9 s in all, longer than the idle timeout.
  for (const byte of data.repeat(3)) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(await conn.write(byte), 'the server still reads');
  }
  await conn.write(END);
  const response = (await conn.response) as RawResponse;
  conn.cut();
  const tookMs = performance.now() - startedAt;
  assert.equal(response.status, 202, response.body.toString('utf8'));
  assert.equal(response.json.files[0].size, data.length * 3);
  assert.ok(tookMs > steadyIdleMs, `the upload took ${Math.round(tookMs)} ms`);
});

test('--upload-idle-timeout: 30 s by default, a duration of at least 100 ms, also from the environment', () => {
  assert.equal(DEFAULTS.uploadIdleTimeoutMs, 30_000);
  assert.equal(loadConfig(['--upload-idle-timeout', '2m']).config.uploadIdleTimeoutMs, 120_000);
  assert.equal(loadConfig([], { JOBCAST_UPLOAD_IDLE_TIMEOUT: '500ms' }).config.uploadIdleTimeoutMs, 500);
  assert.throws(() => loadConfig(['--upload-idle-timeout', '50ms']), (error: unknown) => error instanceof ConfigError && /--upload-idle-timeout/.test(error.message));
  assert.throws(() => loadConfig(['--upload-idle-timeout', 'soon']), ConfigError);
});
