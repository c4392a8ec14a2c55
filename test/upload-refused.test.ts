// An upload refused part-way is answered, not reset: a client that goes on writing the
// rest of its body (as a piped stream does) must read the error code, not EPIPE or
// ECONNRESET. The server answers at once and reads on (up to 8 MiB or 2 s) before it
// closes the connection.
//
// Whether a client reads its answer before a reset is a race with the kernel once the
// linger bound is passed: a client that is not scheduled while the server drains 8 MiB
// from the socket buffers loses it. So the tests of "never reset" give the server a
// linger larger than what the client sends and longer than any test (the answer comes
// first; the connection ends with the body); the last test shows the default bound holds.

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { HANG_MS, TEST_HANG_MS } from './helpers/patience.js';
import { startTestServer } from './helpers/server.js';

const BOUNDARY = 'jobcast-refused';
const TRIES = 30;

/** The body in pieces: an unknown processor first if asked, then a file written in `pieceBytes` writes. */
function bodyPieces(fileBytes: number, pieceBytes: number, withUnknownProcessor: boolean): Buffer[] {
  const pieces = [
    Buffer.from(withUnknownProcessor ? `--${BOUNDARY}\r\nContent-Disposition: form-data; name="processor"\r\n\r\nno-such-processor\r\n` : ''),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
  ];
  const block = Buffer.alloc(pieceBytes, 0x61);
  for (let sent = 0; sent < fileBytes; sent += block.length) pieces.push(block.subarray(0, Math.min(block.length, fileBytes - sent)));
  pieces.push(Buffer.from(`\r\n--${BOUNDARY}--\r\n`));
  return pieces;
}

/** Tally of outcomes over `tries` uploads of `pieces`. */
async function tally(port: number, tries: number, pieces: Buffer[]): Promise<Record<string, number>> {
  const outcomes = new Map<string, number>();
  for (let i = 0; i < tries; i++) {
    const outcome = await postWithoutStopping(port, pieces);
    const key = 'error' in outcome ? `socket error ${outcome.error}` : `${outcome.status} ${outcome.code}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  return Object.fromEntries(outcomes);
}

/** Writes every piece, each in its own turn of the event loop, whatever the server does; resolves with the answer or the socket error. */
function postWithoutStopping(port: number, pieces: Buffer[]): Promise<{ status: number; code: string } | { error: string }> {
  const length = pieces.reduce((n, p) => n + p.length, 0);
  return new Promise((resolve) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/jobs',
      agent: false,
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': length },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, code: (JSON.parse(text) as { error: { code: string } }).error.code }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!answered) resolve({ error: err.code ?? err.message });
    });
    const writeFrom = (i: number): void => {
      if (req.destroyed) return;
      if (i === pieces.length) return void req.end();
      req.write(pieces[i]);
      setImmediate(writeFrom, i + 1);
    };
    writeFrom(0);
  });
}

/** Reads every body the tests send, for longer than any test runs. */
const LINGER_PAST_THE_BODY = { maxBytes: 128 * 1024 * 1024, maxMs: HANG_MS };

test(`a small upload refused at its first field is answered with its code, never reset (${TRIES} tries)`, { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, {}, { refusalLinger: LINGER_PAST_THE_BODY });
  assert.deepEqual(await tally(server.port, TRIES, bodyPieces(256 * 1024, 4096, true)), { '400 unknown_processor': TRIES });
  assert.deepEqual(await readdir(server.config.spoolDir), [], 'no spool folder left');
  const list = (await (await fetch(`${server.url}/jobs`)).json()) as { jobs: unknown[] };
  assert.equal(list.jobs.length, 0, 'no job created');
});

test('a client that keeps sending 64 MiB past --max-file-size reads 413 file_too_large, never a reset (5 tries)', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { maxFileSize: 1024 * 1024 }, { refusalLinger: LINGER_PAST_THE_BODY });
  assert.deepEqual(await tally(server.port, 5, bodyPieces(64 * 1024 * 1024, 64 * 1024, false)), { '413 file_too_large': 5 });
  assert.deepEqual(await readdir(server.config.spoolDir), [], 'no spool folder left');
});

test('the linger is bounded: past 8 MiB of a refused body the server closes, long before the client has sent its 64 MiB', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { maxFileSize: 1024 * 1024 });
  const pieces = bodyPieces(64 * 1024 * 1024, 64 * 1024, false);
  const { written, total } = await writeUntilClosed(server.port, pieces);
  // 8 MiB of linger plus what the kernel buffers on both sides (a few MiB): far from 64.
  t.diagnostic(`the server closed after the client had written ${(written / 2 ** 20).toFixed(1)} of ${(total / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(written < total, 'the server closed before the body ended');
  assert.deepEqual(await readdir(server.config.spoolDir), [], 'no spool folder left');
});

/** Writes the pieces, each once the socket has taken the one before, until the last or until the connection fails. */
function writeUntilClosed(port: number, pieces: Buffer[]): Promise<{ written: number; total: number }> {
  const total = pieces.reduce((n, p) => n + p.length, 0);
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/jobs', agent: false, headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': total } });
    let written = 0;
    let isDone = false;
    const done = (): void => {
      if (isDone) return;
      isDone = true;
      req.destroy();
      resolve({ written, total });
    };
    req.on('error', done);
    req.on('close', done);
    req.on('response', (res) => res.resume());
    const writeFrom = (i: number): void => {
      if (isDone) return;
      if (i === pieces.length) return void req.end(() => done());
      req.write(pieces[i], (err) => {
        if (err) return done();
        written += pieces[i]!.length;
        writeFrom(i + 1);
      });
    };
    writeFrom(0);
  });
}
