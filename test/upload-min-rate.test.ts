// Upload slots held by a trickle: with --max-concurrent-uploads 4, four uploads sending
// one byte every 2 s kept every other upload at 503 too_many_uploads for as long as they
// cared to, since any byte restarted the idle clock. A body must now bring at least
// --upload-min-rate bytes per second over each --upload-idle-timeout of its time, or it
// is cut off with 408 upload_too_slow and its slot freed.

import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, DEFAULTS, loadConfig } from '../server/config.js';
import { listJobs, uploadFiles } from './helpers/http.js';
import { RawConnection, requestHead, type RawResponse } from './helpers/raw-http.js';
import { startTestServer } from './helpers/server.js';
import { TEST_HANG_MS } from './helpers/patience.js';

const B = 'min-rate-boundary';
const CONTENT_TYPE = `multipart/form-data; boundary=${B}`;
const FILE_HEAD = `--${B}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n\r\n`;
const END = `\r\n--${B}--\r\n`;

/** Opens an upload announcing `length` bytes and sends `first` of them. */
async function startUpload(port: number, length: number, first: string): Promise<RawConnection> {
  const conn = await RawConnection.open(port);
  await conn.write(requestHead('/jobs', { 'content-type': CONTENT_TYPE, 'content-length': length }) + first);
  return conn;
}

/** Sends one byte every `everyMs` until the connection answers or `maxBytes` are sent; resolves with the bytes sent. */
async function trickle(conn: RawConnection, everyMs: number, maxBytes: number): Promise<number> {
  let isAnswered = false;
  void conn.response.then(() => (isAnswered = true));
  let sent = 0;
  while (!isAnswered && sent < maxBytes) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    if (isAnswered || !(await conn.write('x'))) break;
    sent++;
  }
  return sent;
}

test('four trickling uploads holding every slot are cut off with 408 upload_too_slow, and the next upload is taken', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { maxConcurrentUploads: 4, uploadIdleTimeoutMs: 1000, uploadMinRate: 512 });
  const body = `${FILE_HEAD}${'x'.repeat(1000)}${END}`;
  const tricklers = await Promise.all(Array.from({ length: 4 }, () => startUpload(server.port, body.length, `${FILE_HEAD}x`)));
  // Each upload that holds a slot has its spool folder: wait until the server holds all four.
  const spool = join(server.dir, 'spool');
  while ((await readdir(spool)).filter((name) => !name.startsWith('.probe-')).length < 4) await new Promise((resolve) => setTimeout(resolve, 5));
  // Every slot is held: an upload now is refused before its body is read.
  const refused = await uploadFiles(server.url, [{ name: 'a.txt', content: 'a' }]);
  assert.equal(refused.status, 503);
  assert.equal(((await refused.json()) as any).error.code, 'too_many_uploads');

  // One byte every 300 ms (3 bytes/s) for up to 100 bytes: 30 s, thirty windows.
  const sent = await Promise.all(tricklers.map((conn) => trickle(conn, 300, 100)));
  const answers = (await Promise.all(tricklers.map((conn) => conn.response))) as Array<RawResponse | null>;
  for (const [i, answer] of answers.entries()) {
    assert.ok(answer !== null, `trickle ${i} was answered (it sent ${sent[i]} bytes)`);
    assert.equal(answer.status, 408, `trickle ${i}`);
    assert.equal(answer.json.error.code, 'upload_too_slow');
    assert.match(answer.json.error.message, /--upload-min-rate \(512 bytes\/s\)/);
    assert.equal(answer.headers.connection, 'close');
    assert.ok(sent[i]! < 100, `trickle ${i} was cut off before it sent all it had`);
  }
  await Promise.all(tricklers.map((conn) => conn.closed));
  t.diagnostic(`trickles cut off after ${sent.join(', ')} bytes`);

  const taken = await uploadFiles(server.url, [{ name: 'a.txt', content: 'a' }]);
  assert.equal(taken.status, 202, await taken.text());
  assert.deepEqual((await listJobs(server.url, 10)).length, 1, 'only the real upload became a job');
  const folders = (await readdir(spool)).filter((name) => !name.startsWith('.probe-'));
  assert.equal(folders.length, 1, 'the trickles left no spool folder');
});

test('an upload at the minimum rate keeps its slot through many windows', { timeout: TEST_HANG_MS }, async (t) => {
  // 1 s windows at 20 bytes/s need 20 bytes each; 10 bytes every 50 ms bring ten times that.
  const server = await startTestServer(t, { uploadIdleTimeoutMs: 1000, uploadMinRate: 20 });
  const data = 'x'.repeat(800);
  const body = `${FILE_HEAD}${data}${END}`;
  const conn = await startUpload(server.port, body.length, FILE_HEAD);
  const startedAt = performance.now();
  for (let sent = 0; sent < data.length; sent += 10) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(await conn.write(data.slice(sent, sent + 10)), 'the server still reads');
  }
  await conn.write(END);
  const answer = (await conn.response) as RawResponse;
  conn.cut();
  assert.equal(answer.status, 202, answer.body.toString('utf8'));
  assert.equal(answer.json.files[0].size, data.length);
  assert.ok(performance.now() - startedAt > 3 * 1000, 'the upload spanned several windows');
});

test('--upload-min-rate: 512 bytes/s by default, a size per second, 0 turns it off', () => {
  assert.equal(DEFAULTS.uploadMinRate, 512);
  assert.equal(loadConfig(['--upload-min-rate', '1KiB']).config.uploadMinRate, 1024);
  assert.equal(loadConfig(['--upload-min-rate', '0']).config.uploadMinRate, 0);
  assert.equal(loadConfig([], { JOBCAST_UPLOAD_MIN_RATE: '2kb' }).config.uploadMinRate, 2000);
  assert.throws(() => loadConfig(['--upload-min-rate', 'fast']), (error: unknown) => error instanceof ConfigError && /--upload-min-rate/.test(error.message));
});
