// Upload reception (SPEC 2.1) over a real HTTP server with a real spool on disk:
// every error row, byte-at-a-time feeding, hostile filenames, limits and aborts.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isJobcastError, JobcastError } from '../server/errors.js';
import { sendError, sendJson } from '../server/http/respond.js';
import { Spool } from '../server/spool/spool.js';
import { MAX_FIELD_BYTES, MAX_FIELDS, receiveUpload, type ReceivedUpload, type UploadOptions } from '../server/http/upload.js';

const LIMITS: UploadOptions['limits'] = { maxFileSize: 64 * 1024, maxFiles: 5, maxUploadSize: 512 * 1024 };
const BOUNDARY = '----jobcast-test-7MA4YWxkTrZu0gW';
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;
/** Odd piece sizes, cycled: parser state must survive any split of the body. */
const ODD_PIECES = [1, 2, 3, 5, 7, 11, 13, 4093];
const ONE_BYTE = [1];

// ---------------------------------------------------------------- multipart bodies

interface Part {
  name: string;
  /** Sent as filename="..." (UTF-8 bytes, quotes and backslashes escaped). */
  filename?: string;
  /** Sent verbatim after `form-data; ` instead of name/filename. */
  disposition?: string;
  type?: string;
  data?: string | Buffer;
  /** Header lines sent as they are, instead of the generated ones. */
  rawHeaders?: string;
}

function partHead(part: Part): string {
  if (part.rawHeaders !== undefined) return part.rawHeaders;
  const quoted = (text: string): string => `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  let disposition = part.disposition ?? `name=${quoted(part.name)}`;
  if (part.filename !== undefined) disposition += `; filename=${quoted(part.filename)}`;
  let head = `Content-Disposition: form-data; ${disposition}\r\n`;
  if (part.type !== undefined) head += `Content-Type: ${part.type}\r\n`;
  return head;
}

/** A multipart/form-data body; `preamble` pads the front (busboy ignores it). */
function multipart(parts: Part[], { preamble = '', close = true } = {}): Buffer {
  const chunks: Buffer[] = [Buffer.from(preamble)];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${BOUNDARY}\r\n${partHead(part)}\r\n`), Buffer.from(part.data ?? ''), Buffer.from('\r\n'));
  }
  if (close) chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

const file = (filename: string, data: string | Buffer, type = 'application/octet-stream'): Part => ({ name: 'file', filename, data, type });
const field = (name: string, data: string): Part => ({ name, data });
const times = <T>(count: number, make: (i: number) => T): T[] => Array.from({ length: count }, (_, i) => make(i));

// ---------------------------------------------------------------- test server

interface Outcome {
  upload?: ReceivedUpload;
  error?: JobcastError;
  /** Listeners receiveUpload left on the request once settled. */
  leftoverListeners: number;
}

const REQUEST_EVENTS = ['data', 'end', 'close', 'error', 'aborted', 'readable'];

interface Harness {
  port: number;
  /** The mkdtemp folder; the spool is `base/spool`, nothing else should ever appear here. */
  base: string;
  spool: Spool;
  /** Settles with what receiveUpload did for the next request, in arrival order. */
  nextOutcome(): Promise<Outcome>;
}

async function startServer(t: TestContext, limits = LIMITS): Promise<Harness> {
  const base = await mkdtemp(join(tmpdir(), 'jobcast-upload-'));
  const spool = new Spool(join(base, 'spool'));
  await spool.init();
  const outcomes: Array<Promise<Outcome>> = [];
  const waiters: Array<(outcome: Promise<Outcome>) => void> = [];
  let counter = 0;
  const server = createServer((req, res) => {
    // A test may fix the job id to prepare its spool folder first.
    const jobId = (req.headers['x-job-id'] as string | undefined) ?? `job${++counter}`;
    const options: UploadOptions = { spool, jobId, limits, isProcessor: (name) => name === 'sha256' || name === 'lines' };
    const baseline = REQUEST_EVENTS.map((name) => req.listenerCount(name));
    const leftovers = (): number => REQUEST_EVENTS.reduce((sum, name, i) => sum + req.listenerCount(name) - baseline[i], 0);
    const outcome = receiveUpload(req, options).then(
      (upload) => {
        const leftoverListeners = leftovers();
        sendJson(res, 202, upload);
        return { upload, leftoverListeners };
      },
      (error: unknown) => {
        const leftoverListeners = leftovers();
        const jobcastError = isJobcastError(error) ? error : new JobcastError('internal_error', String(error));
        sendError(req, res, jobcastError);
        return { error: jobcastError, leftoverListeners };
      },
    );
    const waiter = waiters.shift();
    if (waiter) waiter(outcome);
    else outcomes.push(outcome);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(base, { recursive: true, force: true });
  });
  return {
    port: (server.address() as AddressInfo).port,
    base,
    spool,
    nextOutcome: () => {
      const ready = outcomes.shift();
      return ready ?? new Promise<Outcome>((resolve) => waiters.push((outcome) => resolve(outcome)));
    },
  };
}

/** Nothing in the spool, and nothing but the spool in the test folder. */
async function assertNothingLeft(h: Harness, what: string): Promise<void> {
  assert.deepEqual(await readdir(h.base), ['spool'], `${what}: only the spool in the test folder`);
  assert.deepEqual(await readdir(h.spool.root), [], `${what}: spool is empty`);
}

// ---------------------------------------------------------------- HTTP client

interface SendOptions {
  headers?: OutgoingHttpHeaders;
  /** Piece sizes, cycled; each piece is written separately. Default: the whole body at once. */
  pieces?: number[];
  /** Transfer-Encoding: chunked instead of Content-Length (each piece is then one HTTP chunk). */
  isChunked?: boolean;
  /** Destroy the socket after this many body bytes have been flushed. */
  abortAfter?: number;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  json: any;
  /** Body bytes handed to the socket before the answer arrived. */
  sentBytes: number;
}

/**
 * POSTs `body` to /jobs. The server may answer and close before the body is all sent;
 * EPIPE/ECONNRESET on our side after an answer is then expected, and the answer is what counts.
 */
function send(port: number, body: Buffer | Iterable<Buffer>, options: SendOptions = {}): Promise<Reply> {
  const headers: OutgoingHttpHeaders = { 'content-type': MULTIPART, ...options.headers };
  for (const name of Object.keys(headers)) if (headers[name] === undefined) delete headers[name];
  if (!options.isChunked && Buffer.isBuffer(body) && headers['content-length'] === undefined) {
    headers['content-length'] = body.length;
  }
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/jobs', headers, agent: false });
  let sentBytes = 0;
  let isAnswered = false;
  return new Promise<Reply>((resolve, reject) => {
    req.on('error', (error) => {
      if (!isAnswered) reject(error);
    });
    req.on('response', (res) => {
      isAnswered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode as number, headers: res.headers, json: text ? JSON.parse(text) : null, sentBytes });
        req.destroy();
      });
      res.on('error', reject);
    });
    void (async () => {
      for (const piece of pieces(body, options.pieces)) {
        if (isAnswered || req.destroyed) return;
        if (options.abortAfter !== undefined && sentBytes + piece.length >= options.abortAfter) {
          await write(req, piece.subarray(0, options.abortAfter - sentBytes));
          req.destroy();
          resolve({ status: 0, headers: {}, json: null, sentBytes: options.abortAfter });
          return;
        }
        sentBytes += piece.length;
        await write(req, piece);
      }
      if (!isAnswered && !req.destroyed) req.end();
    })();
  });
}

function* pieces(body: Buffer | Iterable<Buffer>, sizes: number[] | undefined): Generator<Buffer> {
  for (const buffer of Buffer.isBuffer(body) ? [body] : body) {
    if (!sizes) {
      yield buffer;
      continue;
    }
    for (let offset = 0, i = 0; offset < buffer.length; i++) {
      const size = sizes[i % sizes.length];
      yield buffer.subarray(offset, offset + size);
      offset += size;
    }
  }
}

/** Resolves when `piece` is flushed to the socket, or the request has failed or been answered. */
function write(req: ReturnType<typeof request>, piece: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      req.off('response', done);
      req.off('close', done);
      resolve();
    };
    req.once('response', done);
    req.once('close', done);
    req.write(piece, () => done());
  });
}

// ---------------------------------------------------------------- success

const SMALL = randomBytes(1000);
const MEDIUM = randomBytes(50 * 1024);

const SUCCESS_PARTS: Part[] = [
  field('processor', 'lines'),
  field('label', 'nightly batch ✓'),
  file('a.csv', SMALL, 'text/csv'),
  field('options', '{"msPerMiB": 5, "nested": {"x": [1, 2]}}'),
  file('empty.txt', ''),
  field('unknown', 'ignored'),
  file('b.bin', MEDIUM),
  field('failFast', 'true'),
];

async function assertSuccess(upload: ReceivedUpload, spool: Spool): Promise<void> {
  assert.equal(upload.processor, 'lines');
  assert.equal(upload.label, 'nightly batch ✓');
  assert.deepEqual(upload.options, { msPerMiB: 5, nested: { x: [1, 2] } });
  assert.equal(upload.failFast, true);
  const [id] = await readdir(spool.root);
  assert.deepEqual(
    upload.files.map(({ path, ...rest }) => rest),
    [
      { index: 0, name: 'a.csv', size: SMALL.length, type: 'text/csv' },
      { index: 1, name: 'empty.txt', size: 0, type: 'application/octet-stream' },
      { index: 2, name: 'b.bin', size: MEDIUM.length, type: 'application/octet-stream' },
    ],
  );
  assert.deepEqual(upload.files.map((f) => f.path), [0, 1, 2].map((i) => spool.inputPath(id, i)));
  assert.equal(upload.bytes, SMALL.length + MEDIUM.length);
  assert.deepEqual(await readFile(upload.files[0].path), SMALL);
  assert.equal((await readFile(upload.files[1].path)).length, 0);
  assert.deepEqual(await readFile(upload.files[2].path), MEDIUM);
}

test('several files and fields: every file on disk, sizes and contents as sent', async (t) => {
  const h = await startServer(t);
  const modes: Array<[string, SendOptions]> = [
    ['whole body', {}],
    ['1-byte chunks', { pieces: ONE_BYTE, isChunked: true }],
    ['odd-sized chunks', { pieces: ODD_PIECES, isChunked: true }],
  ];
  for (const [what, options] of modes) {
    const reply = await send(h.port, multipart(SUCCESS_PARTS), options);
    assert.equal((await h.nextOutcome()).leftoverListeners, 0, what);
    assert.equal(reply.status, 202, `${what}: ${JSON.stringify(reply.json)}`);
    await assertSuccess(reply.json, h.spool);
    await rm(h.spool.root, { recursive: true });
    await h.spool.init();
  }
});

test('fields after files, and none at all, give the defaults', async (t) => {
  const h = await startServer(t);
  const reply = await send(h.port, multipart([file('x', 'x'), field('failFast', 'false'), field('label', '')]));
  assert.equal(reply.status, 202);
  const { processor, label, options, failFast } = reply.json as ReceivedUpload;
  assert.deepEqual({ processor, label, options, failFast }, { processor: null, label: null, options: {}, failFast: false });
});

test('limits are inclusive: exactly maxFileSize, maxFiles, maxUploadSize, a 200-character label', async (t) => {
  const h = await startServer(t, { maxFileSize: 1000, maxFiles: 3, maxUploadSize: 8000 });
  const parts = [field('label', '😀'.repeat(200)), ...times(3, (i) => file(`f${i}`, Buffer.alloc(1000, i)))];
  const exact = multipart(parts);
  const padded = multipart(parts, { preamble: 'p'.repeat(8000 - exact.length) });
  assert.equal(padded.length, 8000);
  const reply = await send(h.port, padded, { pieces: ODD_PIECES, isChunked: true });
  assert.equal(reply.status, 202, JSON.stringify(reply.json));
  assert.deepEqual((reply.json as ReceivedUpload).files.map((f) => f.size), [1000, 1000, 1000]);
});

test('an empty file input (filename="" and no bytes) is skipped; one with bytes is a file', async (t) => {
  const h = await startServer(t);
  const blob: Part = { name: 'blob', type: 'application/octet-stream', data: 'blob!' };
  const body = multipart([file('', ''), file('a', 'A'), file('', 'data'), file('', ''), blob]);
  const reply = await send(h.port, body, { pieces: ONE_BYTE, isChunked: true });
  assert.equal(reply.status, 202, JSON.stringify(reply.json));
  const files = (reply.json as ReceivedUpload).files;
  assert.deepEqual(files.map(({ index, name, size }) => ({ index, name, size })), [
    { index: 0, name: 'a', size: 1 },
    { index: 1, name: '', size: 4 },
    { index: 2, name: '', size: 5 },
  ]);
  assert.equal(await readFile(files[1].path, 'utf8'), 'data');
});

test('a part without filename is a text field even when typed application/octet-stream', async (t) => {
  const h = await startServer(t);
  const reply = await send(h.port, multipart([{ name: 'options', type: 'application/octet-stream', data: '{"a":1}' }, file('f', 'x')]));
  assert.equal(reply.status, 202, JSON.stringify(reply.json));
  assert.deepEqual((reply.json as ReceivedUpload).options, { a: 1 });
  assert.equal((reply.json as ReceivedUpload).files.length, 1);
});

// ---------------------------------------------------------------- error rows

interface ErrorCase {
  what: string;
  body: Buffer;
  headers?: OutgoingHttpHeaders;
  expectedStatus: number;
  expectedCode: string;
  /** Only sent whole, with its Content-Length (the case is about that header). */
  isWholeOnly?: boolean;
}

const ERROR_CASES: ErrorCase[] = [
  { what: 'text/plain body', body: Buffer.from('hello'), headers: { 'content-type': 'text/plain' }, expectedStatus: 415, expectedCode: 'unsupported_media_type' },
  { what: 'urlencoded body (busboy would parse it)', body: Buffer.from('a=b'), headers: { 'content-type': 'application/x-www-form-urlencoded' }, expectedStatus: 415, expectedCode: 'unsupported_media_type' },
  { what: 'no content type', body: multipart([file('a', 'x')]), headers: { 'content-type': undefined }, expectedStatus: 415, expectedCode: 'unsupported_media_type' },
  { what: 'multipart/mixed', body: multipart([file('a', 'x')]), headers: { 'content-type': `multipart/mixed; boundary=${BOUNDARY}` }, expectedStatus: 415, expectedCode: 'unsupported_media_type' },
  { what: 'missing boundary', body: multipart([file('a', 'x')]), headers: { 'content-type': 'multipart/form-data' }, expectedStatus: 400, expectedCode: 'malformed_multipart' },
  { what: 'boundary not in the body', body: multipart([file('a', 'x')]), headers: { 'content-type': 'multipart/form-data; boundary=other' }, expectedStatus: 400, expectedCode: 'malformed_multipart' },
  { what: 'empty body', body: Buffer.alloc(0), expectedStatus: 400, expectedCode: 'malformed_multipart' },
  { what: 'body ends mid-file', body: multipart([file('a', 'x'.repeat(5000))], { close: false }).subarray(0, 3000), expectedStatus: 400, expectedCode: 'malformed_multipart' },
  { what: 'body ends after a part, without the closing boundary', body: multipart([file('a', 'x')], { close: false }), expectedStatus: 400, expectedCode: 'malformed_multipart' },
  { what: 'part header without a colon', body: multipart([file('a', 'x'), { name: '', rawHeaders: 'Content-Disposition form-data\r\n' }]), expectedStatus: 400, expectedCode: 'malformed_multipart' },
  { what: 'raw control character in a part header name', body: multipart([{ name: '', rawHeaders: `Content-Disposition: form-data; name="file"; filename="a"\r\nX-\u0001: 1\r\n`, data: 'x' }]), expectedStatus: 400, expectedCode: 'malformed_multipart' },
  { what: 'bare LF in a part header value', body: multipart([{ name: 'file', disposition: 'name="file"; filename="a\nb"', data: 'x' }]), expectedStatus: 400, expectedCode: 'malformed_multipart' },
  { what: 'only text fields', body: multipart([field('label', 'x'), field('processor', 'sha256')]), expectedStatus: 400, expectedCode: 'no_files' },
  { what: 'only an empty file input', body: multipart([file('', '')]), expectedStatus: 400, expectedCode: 'no_files' },
  { what: 'no parts at all', body: Buffer.from(`--${BOUNDARY}--\r\n`), expectedStatus: 400, expectedCode: 'no_files' },
  { what: 'unknown processor', body: multipart([field('processor', 'nope'), file('a', 'x')]), expectedStatus: 400, expectedCode: 'unknown_processor' },
  { what: 'unknown processor after the files', body: multipart([file('a', 'x'), file('b', 'y'), field('processor', '../sha256')]), expectedStatus: 400, expectedCode: 'unknown_processor' },
  { what: 'label of 201 characters', body: multipart([file('a', 'x'), field('label', 'é'.repeat(201))]), expectedStatus: 400, expectedCode: 'invalid_field' },
  { what: 'options not JSON', body: multipart([field('options', '{nope'), file('a', 'x')]), expectedStatus: 400, expectedCode: 'invalid_field' },
  { what: 'options an array', body: multipart([field('options', '[1]'), file('a', 'x')]), expectedStatus: 400, expectedCode: 'invalid_field' },
  { what: 'options null', body: multipart([field('options', 'null'), file('a', 'x')]), expectedStatus: 400, expectedCode: 'invalid_field' },
  { what: 'options a string', body: multipart([file('a', 'x'), field('options', '"x"')]), expectedStatus: 400, expectedCode: 'invalid_field' },
  { what: 'options larger than the field cap', body: multipart([file('a', 'x'), field('options', `{"a":"${'x'.repeat(MAX_FIELD_BYTES)}"}`)]), expectedStatus: 400, expectedCode: 'invalid_field' },
  { what: 'options as an octet-stream part larger than the field cap', body: multipart([file('a', 'x'), { name: 'options', type: 'application/octet-stream', data: Buffer.alloc(MAX_FIELD_BYTES + 1, 0x20) }]), expectedStatus: 400, expectedCode: 'invalid_field' },
  { what: 'failFast yes', body: multipart([field('failFast', 'yes'), file('a', 'x')]), expectedStatus: 400, expectedCode: 'invalid_field' },
  { what: 'failFast TRUE', body: multipart([file('a', 'x'), field('failFast', 'TRUE')]), expectedStatus: 400, expectedCode: 'invalid_field' },
  { what: 'processor sent twice', body: multipart([field('processor', 'sha256'), field('processor', 'lines'), file('a', 'x')]), expectedStatus: 400, expectedCode: 'invalid_field' },
  { what: `more than ${MAX_FIELDS} text fields`, body: multipart([file('a', 'x'), ...times(3000, (i) => field(`f${i}`, 'v'))]), expectedStatus: 400, expectedCode: 'invalid_field' },
  { what: 'file of maxFileSize + 1', body: multipart([file('a', 'x'), file('big', Buffer.alloc(LIMITS.maxFileSize + 1))]), expectedStatus: 413, expectedCode: 'file_too_large' },
  { what: 'unnamed file of maxFileSize + 1', body: multipart([file('', Buffer.alloc(LIMITS.maxFileSize + 1))]), expectedStatus: 413, expectedCode: 'file_too_large' },
  { what: 'maxFiles + 1 files', body: multipart(times(LIMITS.maxFiles + 1, (i) => file(`f${i}`, 'x'))), expectedStatus: 413, expectedCode: 'too_many_files' },
  { what: 'thousands of tiny files', body: multipart(times(3000, (i) => file(`f${i}`, 'x'))), expectedStatus: 413, expectedCode: 'too_many_files' },
  { what: 'thousands of empty file inputs (the parts limit)', body: multipart(times(3000, () => file('', ''))), expectedStatus: 413, expectedCode: 'too_many_files' },
  { what: 'thousands of parts without Content-Disposition (the parts limit)', body: multipart(times(3000, () => ({ name: '', rawHeaders: 'X-Nothing: 1\r\n', data: 'x' }))), expectedStatus: 413, expectedCode: 'too_many_files' },
  { what: 'Content-Length above maxUploadSize (refused before reading)', body: multipart([file('a', 'x')]), headers: { 'content-length': LIMITS.maxUploadSize + 1 }, expectedStatus: 413, expectedCode: 'upload_too_large', isWholeOnly: true },
  { what: 'body of maxUploadSize + 1 (counted while streaming)', body: multipart(times(4, (i) => file(`f${i}`, Buffer.alloc(LIMITS.maxFileSize))), { preamble: 'p'.repeat(LIMITS.maxUploadSize - 4 * LIMITS.maxFileSize) }).subarray(0, LIMITS.maxUploadSize + 1), expectedStatus: 413, expectedCode: 'upload_too_large' },
];

test('every error row of SPEC 2.1 leaves no file behind', async (t) => {
  const h = await startServer(t);
  for (const c of ERROR_CASES) {
    const modes: Array<[string, SendOptions]> = [['whole', { headers: c.headers }]];
    if (!c.isWholeOnly) modes.push(['chunked, odd pieces', { headers: c.headers, pieces: ODD_PIECES, isChunked: true }]);
    for (const [mode, options] of modes) {
      const what = `${c.what} (${mode})`;
      const reply = await send(h.port, c.body, options);
      assert.equal((await h.nextOutcome()).leftoverListeners, 0, `${what}: no listener left on the request`);
      assert.equal(reply.status, c.expectedStatus, `${what}: ${JSON.stringify(reply.json)}`);
      assert.equal(reply.json?.error?.code, c.expectedCode, what);
      assert.equal(typeof reply.json.error.message, 'string', what);
      await assertNothingLeft(h, what);
    }
  }
});

test('a full disk is 507 insufficient_storage and leaves nothing', { skip: !existsSync('/dev/full') && 'no /dev/full' }, async (t) => {
  const h = await startServer(t);
  // Writes to /dev/full fail with ENOSPC, as a full spool disk would.
  const jobId = 'diskfull';
  await mkdir(h.spool.jobDir(jobId));
  await symlink('/dev/full', h.spool.inputPath(jobId, 0));
  const reply = await send(h.port, multipart([file('a', randomBytes(20000))]), { headers: { 'x-job-id': jobId } });
  assert.equal(reply.status, 507);
  assert.equal(reply.json.error.code, 'insufficient_storage');
  await assertNothingLeft(h, 'full disk');
});

test('a file far beyond maxFileSize gets 413 while the client is still sending', async (t) => {
  const h = await startServer(t, { maxFileSize: 1024 * 1024, maxFiles: 10, maxUploadSize: 1024 ** 3 });
  const totalBytes = 256 * 1024 * 1024;
  const block = Buffer.alloc(64 * 1024, 0x61);
  function* body(): Generator<Buffer> {
    yield Buffer.from(`--${BOUNDARY}\r\n${partHead(file('huge.bin', ''))}\r\n`);
    for (let sent = 0; sent < totalBytes; sent += block.length) yield block;
    yield Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  }
  const reply = await send(h.port, body(), { isChunked: true });
  assert.equal(reply.status, 413);
  assert.equal(reply.json.error.code, 'file_too_large');
  assert.equal(reply.headers.connection, 'close');
  assert.ok(reply.sentBytes < totalBytes / 4, `answered after ${reply.sentBytes} of ${totalBytes} bytes`);
  await assertNothingLeft(h, 'huge file');
});

test('a client that aborts mid-file leaves nothing', async (t) => {
  const h = await startServer(t);
  const body = multipart([file('a', randomBytes(30000)), file('b', randomBytes(30000))]);
  for (const options of [{ abortAfter: 45000 }, { abortAfter: 45000, isChunked: true, pieces: [997] }, { abortAfter: 10 }]) {
    await send(h.port, body, options);
    const outcome = await h.nextOutcome();
    assert.equal(outcome.error?.code, 'malformed_multipart', JSON.stringify(options));
    assert.equal(outcome.leftoverListeners, 0);
    await assertNothingLeft(h, `abort ${JSON.stringify(options)}`);
  }
});

// ---------------------------------------------------------------- filenames

test('UTF-8 and path-like filenames are kept as data, cleaned, and never used as paths', async (t) => {
  const h = await startServer(t, { ...LIMITS, maxFiles: 20 });
  const cases: Array<{ sent: Part; expected: string }> = [
    { sent: file('é.txt', 'x'), expected: 'é.txt' },
    { sent: file('漢字.txt', 'x'), expected: '漢字.txt' },
    { sent: file('😀 party.png', 'x'), expected: '😀 party.png' },
    { sent: { name: 'file', disposition: `name="file"; filename*=UTF-8''%F0%9F%98%80%E6%BC%A2.txt`, data: 'x' }, expected: '😀漢.txt' },
    { sent: file('../../etc/passwd', 'x'), expected: '../../etc/passwd' },
    { sent: file('a/b/c.txt', 'x'), expected: 'a/b/c.txt' },
    { sent: file('C:\\x', 'x'), expected: 'C:\\x' },
    { sent: file('/abs/..', 'x'), expected: '/abs/..' },
    { sent: file('..', 'x'), expected: '..' },
    { sent: file('tab\there', 'x'), expected: 'tabhere' },
    // Raw in the part header, as browsers send them: the header is read, the name cleaned.
    { sent: file('nul\u0000byte.txt', 'x'), expected: 'nulbyte.txt' },
    { sent: file('ctl\u0001\u0007\u001b[31mred\u001b[0m\u007f.txt', 'x'), expected: 'ctl[31mred[0m.txt' },
    { sent: file(`all${times(32, (i) => String.fromCharCode(i)).filter((c) => c !== '\r' && c !== '\n').join('')}\u007f.bin`, 'x'), expected: 'all.bin' },
    { sent: { name: 'file', disposition: `name="file"; filename*=UTF-8''a%00b%01c%0A%0Dd%1Fe%7Ff%C2%85.txt`, data: 'x' }, expected: 'abcdef\u0085.txt' },
    { sent: file('é'.repeat(150), 'x'), expected: 'é'.repeat(127) },
    { sent: file('a' + '😀'.repeat(75), 'x'), expected: 'a' + '😀'.repeat(63) },
  ];
  const reply = await send(h.port, multipart(cases.map((c) => c.sent)), { pieces: ODD_PIECES, isChunked: true });
  assert.equal(reply.status, 202, JSON.stringify(reply.json));
  const files = (reply.json as ReceivedUpload).files;
  assert.deepEqual(files.map((f) => f.name), cases.map((c) => c.expected));
  for (const f of files) assert.ok(Buffer.byteLength(f.name) <= 255 && !f.name.includes('\ufffd'), f.name);
  // Only <spool>/<job>/in-<n> exist: nothing was created from a client's name.
  assert.deepEqual(await readdir(h.base), ['spool']);
  const [id] = await readdir(h.spool.root);
  assert.deepEqual((await readdir(h.spool.jobDir(id))).sort(), files.map((f) => `in-${f.index}`).sort());
});
