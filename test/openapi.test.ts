// GET /openapi.json is kept true: it validates as OpenAPI 3.1, names every error code,
// and the real answers of every route (successes and errors), WebSocket frames and SSE
// messages of a real server validate against it.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ERRORS, INTERNAL_CODES, type ErrorCode } from '../server/errors.js';
import { OPERATIONS } from '../server/http/openapi/operations.js';
import type { Snapshot } from '../server/protocol/types.js';
import { pollJob, uploadFiles } from './helpers/http.js';
import { ApiContract } from './helpers/openapi.js';
import { RawConnection, requestHead } from './helpers/raw-http.js';
import { FIXTURE_PROCESSORS, ON_UWS, startTestServer } from './helpers/server.js';
import { SseReader } from './helpers/sse-client.js';
import { connectWs } from './helpers/ws-client.js';

const TOKEN = 'openapi-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

test('the document is valid OpenAPI 3.1 and describes every route of the router', async (t) => {
  const server = await startTestServer(t);
  const contract = await ApiContract.load(server.url);
  const validator = new Validator();
  const result = await validator.validate(contract.doc as unknown as Parameters<Validator['validate']>[0]);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  assert.equal(validator.version, '3.1');
  const described = Object.entries(contract.doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
  assert.deepEqual(described.filter((key) => key !== 'GET /ws').sort(), Object.keys(OPERATIONS).sort());
});

test('every error code of errors.ts is in the document, where it can occur', async (t) => {
  const server = await startTestServer(t);
  const { doc } = await ApiContract.load(server.url);
  const text = JSON.stringify(doc);
  // The catalogue schema lists every code by construction; look everywhere else.
  delete (doc.components.schemas as Record<string, unknown>)['ErrorCode'];
  const inEnums = new Set<string>();
  JSON.stringify(doc, (key, value: unknown) => {
    if (key === 'enum' && Array.isArray(value)) for (const v of value) inEnums.add(String(v));
    return value;
  });
  for (const [code, { status }] of Object.entries(ERRORS)) {
    if (!INTERNAL_CODES.has(code as ErrorCode)) assert.ok(inEnums.has(code), `${code} is in some response, message or event schema`);
    assert.ok(text.includes(`"${code}":{"status":${status}`), `${code} is in x-jobcast-errors with status ${status}`);
  }
});

test('the answers of every route, successes and errors, match the document', async (t) => {
  const server = await startTestServer(t, {
    token: TOKEN,
    processorDir: FIXTURE_PROCESSORS,
    maxFiles: 2,
    maxFileSize: 64 * 1024,
    maxUploadSize: 100 * 1024,
    maxQueuedJobs: 1,
  });
  const api = await ApiContract.load(server.url);
  const p: Probe = {
    server,
    api,
    url: (path) => `${server.url}${path}`,
    check: (method, path, res) => api.assertResponse(method, path, res),
    upload: (files, fields = {}, query = '', headers = auth) => uploadFiles(server.url, files, fields, query, headers),
  };
  const finished = await uploadAnswers(p);
  const { held, queued } = await queueAnswers(p);
  await readAnswers(p, finished, held);
  await sseAnswers(p, finished);
  await cancelAndDeleteAnswers(p, finished, held, queued);
  await otherAnswers(p);
  await shutdownAnswers(p);

  for (const [key, operation] of Object.entries(OPERATIONS)) {
    for (const status of Object.keys(operation.responses)) {
      if (key === 'POST /jobs' && status === '200') continue; // covered above as `wait` (200 or 202 by timing)
      assert.ok(api.checked.has(`${key} ${status}`) || (key === 'POST /jobs' && api.checked.has(`${key} 202`)), `${key} ${status} was checked`);
    }
  }
});

interface Probe {
  server: Awaited<ReturnType<typeof startTestServer>>;
  api: ApiContract;
  url(path: string): string;
  check(method: string, path: string, res: Response): Promise<void>;
  upload(files: Array<{ name: string; content: string }>, fields?: Record<string, string>, query?: string, headers?: Record<string, string>): Promise<Response>;
}

/** Every answer of POST /jobs but the queue's; returns a completed gzip job. */
async function uploadAnswers({ check, upload, url }: Probe): Promise<Snapshot> {
  const done = (await upload([{ name: 'a.txt', content: 'hello '.repeat(100) }], { processor: 'gzip' }, '?wait=30'));
  await check('POST', '/jobs', done);
  const finished = (await done.json()) as Snapshot;
  assert.equal(finished.status, 'completed');
  await check('POST', '/jobs', await upload([{ name: 'x', content: 'x' }], { processor: 'nope' }));
  await check('POST', '/jobs', await upload([{ name: 'x', content: 'x' }], { options: '[1]' }));
  await check('POST', '/jobs', await upload([], { label: 'no files' }));
  await check('POST', '/jobs', await upload([{ name: 'big', content: 'b'.repeat(65 * 1024) }]));
  await check('POST', '/jobs', await upload([{ name: '1', content: '1' }, { name: '2', content: '2' }, { name: '3', content: '3' }]));
  await check('POST', '/jobs', await upload([{ name: '1', content: '1'.repeat(60 * 1024) }, { name: '2', content: '2'.repeat(60 * 1024) }]));
  await check('POST', '/jobs', await upload([{ name: 'x', content: 'x' }], {}, '?wait=never'));
  await check('POST', '/jobs', await upload([{ name: 'x', content: 'x' }], {}, '', {}));
  await check('POST', '/jobs', await fetch(url('/jobs'), { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'x' }));
  await check('POST', '/jobs', await fetch(url('/jobs'), { method: 'POST', headers: { ...auth, 'content-type': 'multipart/form-data; boundary=zz' }, body: '--zz\r\nbroken' }));
  return finished;
}

/** A job held running, one queued behind it, and the queue full. */
async function queueAnswers({ check, upload, server }: Probe): Promise<{ held: Snapshot; queued: Snapshot }> {
  const running = await upload([{ name: 'held', content: 'h'.repeat(1000) }], { processor: 'gated' });
  await check('POST', '/jobs', running);
  const held = (await running.json()) as Snapshot;
  await pollJob(server.url, held.id, (s) => s.status === 'running');
  const queued = (await (await upload([{ name: 'q', content: 'q' }])).json()) as Snapshot;
  await check('POST', '/jobs', await upload([{ name: 'x', content: 'x' }]));
  return { held, queued };
}

async function readAnswers({ check, url }: Probe, finished: Snapshot, held: Snapshot): Promise<void> {
  await check('GET', '/jobs', await fetch(url('/jobs?limit=2'), { headers: auth }));
  await check('GET', '/jobs', await fetch(url('/jobs?limit=0'), { headers: auth }));
  await check('GET', '/jobs', await fetch(url('/jobs')));
  await check('GET', '/jobs/{id}', await fetch(url(`/jobs/${held.id}`)));
  await check('GET', '/jobs/{id}', await fetch(url('/jobs/V1StGXR8_Z5jdHi6B-myT')));
  await check('GET', '/jobs/{id}/files/{index}/output', await fetch(url(`/jobs/${finished.id}/files/0/output`)));
  await check('GET', '/jobs/{id}/files/{index}/output', await fetch(url(`/jobs/${finished.id}/files/7/output`)));
  await check('GET', '/jobs/{id}/files/{index}/output', await fetch(url('/jobs/V1StGXR8_Z5jdHi6B-myT/files/0/output')));
}

/** Server-Sent Events: every message of a whole stream, the 204 and the errors. */
async function sseAnswers({ check, url, api }: Probe, finished: Snapshot): Promise<void> {
  const stream = await fetch(url(`/jobs/${finished.id}/events?since=0`));
  await check('GET', '/jobs/{id}/events', stream);
  const reader = new SseReader(stream);
  let sseMessages = 0;
  for (let message = await reader.next(); message !== null; message = await reader.next()) {
    api.assertSchema('SseMessage', JSON.parse(message.data), `SSE ${message.event}`);
    sseMessages++;
  }
  assert.ok(sseMessages >= 5, `the whole job streamed (${sseMessages} messages)`);
  await check('GET', '/jobs/{id}/events', await fetch(url(`/jobs/${finished.id}/events`), { headers: { 'last-event-id': String(finished.seq) } }));
  await check('GET', '/jobs/{id}/events', await fetch(url(`/jobs/${finished.id}/events?since=x`)));
  await check('GET', '/jobs/{id}/events', await fetch(url('/jobs/V1StGXR8_Z5jdHi6B-myT/events')));
  await check('HEAD', '/jobs/{id}/events', await fetch(url(`/jobs/${finished.id}/events`), { method: 'HEAD' }));
  await check('HEAD', '/jobs/{id}/events', await fetch(url('/jobs/V1StGXR8_Z5jdHi6B-myT/events'), { method: 'HEAD' }));
}

async function cancelAndDeleteAnswers({ check, url }: Probe, finished: Snapshot, held: Snapshot, queued: Snapshot): Promise<void> {
  await check('POST', '/jobs/{id}/cancel', await fetch(url(`/jobs/${queued.id}/cancel`), { method: 'POST', headers: auth }));
  await check('POST', '/jobs/{id}/cancel', await fetch(url(`/jobs/${finished.id}/cancel`), { method: 'POST', headers: auth }));
  await check('POST', '/jobs/{id}/cancel', await fetch(url('/jobs/V1StGXR8_Z5jdHi6B-myT/cancel'), { method: 'POST', headers: auth }));
  await check('POST', '/jobs/{id}/cancel', await fetch(url(`/jobs/${queued.id}/cancel`), { method: 'POST' }));
  await check('DELETE', '/jobs/{id}', await fetch(url(`/jobs/${held.id}`), { method: 'DELETE', headers: auth }));
  await check('DELETE', '/jobs/{id}', await fetch(url(`/jobs/${queued.id}`), { method: 'DELETE', headers: auth }));
  await check('DELETE', '/jobs/{id}', await fetch(url(`/jobs/${queued.id}`), { method: 'DELETE', headers: auth }));
  await check('DELETE', '/jobs/{id}', await fetch(url(`/jobs/${finished.id}`), { method: 'DELETE' }));
}

/** Operations, pages, another method, and answers given before any route. */
async function otherAnswers({ check, url, api, server }: Probe): Promise<void> {
  for (const path of ['/queue', '/processors', '/healthz', '/readyz', '/metrics', '/openapi.json', '/jobcast-client.js', '/', '/dashboard', '/favicon.ico', '/favicon.svg', '/assets/upload.js']) {
    await check('GET', path === '/assets/upload.js' ? '/assets/{name}' : path, await fetch(url(path)));
  }
  await check('GET', '/assets/{name}', await fetch(url('/assets/nothing.js')));
  // The processes are listed to a request with the token (header or query), and to no other.
  for (const [what, res] of [
    ['with the token', await fetch(url('/queue'), { headers: auth })],
    ['with ?token=', await fetch(url(`/queue?token=${TOKEN}`))],
    ['without it', await fetch(url('/queue'))],
  ] as const) {
    await check('GET', '/queue', res);
    const body = (await res.json()) as { processes?: Array<{ pid: number; role: string }> };
    if (what === 'without it') assert.equal(body.processes, undefined, 'no processes without the token');
    else assert.deepEqual(body.processes?.map((p) => [p.role, p.pid]), [['server', process.pid]], `the one process ${what}`);
  }
  // Another method on a known path: every operation documents 405.
  await check('GET', '/jobs', await fetch(url('/jobs'), { method: 'PUT', headers: auth }));
  // Answered before any route: headers over 16 KiB (431), a request that is not HTTP (400).
  // (uws closes the connection of a request that is not HTTP without an answer: README, "Engines".)
  const unparsable = ON_UWS ? [] : ['GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'];
  for (const head of [requestHead('/healthz', { 'x-filler': 'f'.repeat(20 * 1024) }, 'GET'), ...unparsable]) {
    const conn = await RawConnection.open(server.port);
    await conn.write(head);
    const raw = (await conn.response)!;
    conn.cut();
    await check('GET', '/healthz', new Response(raw.body, { status: raw.status, headers: raw.headers }));
  }
  // A body where none is taken (413), and a Host the server does not answer as (421).
  for (const head of ['GET /queue HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n\r\nx', 'GET /queue HTTP/1.1\r\nHost: evil.example\r\n\r\n']) {
    const conn = await RawConnection.open(server.port);
    await conn.write(head);
    const raw = (await conn.response)!;
    conn.cut();
    await check('GET', '/queue', new Response(raw.body, { status: raw.status, headers: raw.headers }));
  }
  const unknown = await fetch(url('/nowhere'));
  assert.equal(unknown.status, 404);
  api.assertSchema('ErrorBody', await unknown.json(), 'an unknown route');
  const plainWs = await fetch(url('/ws'));
  await check('GET', '/ws', plainWs);
}

/** Shutting down: /readyz says so while the held job uses its grace. */
async function shutdownAnswers({ check, url, server }: Probe): Promise<void> {
  const closing = server.close();
  await check('GET', '/readyz', await fetch(url('/readyz')));
  await writeFile(join(server.dir, 'release'), '');
  await closing;
}

test('WebSocket frames, both ways, match the document', async (t) => {
  const server = await startTestServer(t, { token: TOKEN, processorDir: FIXTURE_PROCESSORS });
  const api = await ApiContract.load(server.url);
  const client = await connectWs(t, server.url);
  const created = await uploadFiles(server.url, [{ name: 'a', content: 'a'.repeat(5000) }, { name: 'b', content: 'b' }], { processor: 'throws' }, '', auth);
  const job = (await created.json()) as Snapshot;
  const sent: unknown[] = [
    { op: 'subscribe', job: job.id },
    { op: 'ping' },
    { op: 'subscribe', job: 'V1StGXR8_Z5jdHi6B-myT' },
    { op: 'subscribe', job: '*' },
    { op: 'subscribe', job: job.id, since: 1 },
    { op: 'unsubscribe', job: job.id },
  ];
  for (const message of sent) {
    api.assertSchema('ClientMessage', message, `client ${JSON.stringify(message)}`);
    client.send(message as object);
  }
  client.send('not json');
  client.send({ op: 'dance' });
  await client.roundTrip();
  assert.throws(() => api.assertSchema('ClientMessage', { op: 'dance' }), /does not match/);
  const live = await connectWs(t, server.url, { query: `?token=${TOKEN}` });
  await live.subscribe('*');
  const watched = (await (await uploadFiles(server.url, [{ name: 'c', content: 'c'.repeat(300_000) }], { processor: 'delay' }, '', auth)).json()) as Snapshot;
  await live.untilFinal(watched.id);
  await live.roundTrip();
  const frames = [...client.received, ...live.received];
  for (const frame of frames) api.assertSchema('ServerMessage', frame, `server ${frame.type}`);
  const types = new Set<string>(frames.map((f) => (f.type === 'event' ? f.name : f.type)));
  for (const type of ['snapshot', 'subscribed', 'unsubscribed', 'error', 'pong', 'job.queued', 'job.started', 'file.progress', 'file.completed', 'file.failed', 'job.failed', 'job.completed']) {
    assert.ok(types.has(type), `a ${type} frame was seen`);
  }
});
