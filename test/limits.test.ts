// Process-protecting limits over real sockets: --max-connections, --max-connections-per-ip
// (HTTP and WebSocket upgrades refused 503 too_many_connections before any upgrade) and
// --max-concurrent-uploads (503 too_many_uploads before the body is read).

import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, DEFAULTS, loadConfig } from '../server/config.js';
import { uploadFiles } from './helpers/http.js';
import { HANG_MS } from './helpers/patience.js';
import { ON_UWS, startTestServer } from './helpers/server.js';
import { waitFor } from './helpers/ws-client.js';

/** True once a job folder on the spool holds some bytes of its first file. */
function isUploading(spoolDir: string): boolean {
  // Dot entries are the readiness probe's, not jobs.
  const jobs = readdirSync(spoolDir).filter((name) => !name.startsWith('.'));
  return jobs.some((id) => (statSync(join(spoolDir, id, 'in-0'), { throwIfNoEntry: false })?.size ?? 0) > 0);
}

interface Answer {
  status: number;
  head: string;
  json: any;
}

/** Opens a TCP connection (from `localAddress` when given). */
function open(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', ...(localAddress !== undefined && { localAddress }) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `request` and resolves with the first answer once its headers and Content-Length body are in. */
function ask(socket: Socket, request: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = data.subarray(0, end).toString('latin1');
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (data.length < end + 4 + length) return;
      socket.off('data', onData);
      const body = data.subarray(end + 4, end + 4 + length).toString();
      resolve({ status: Number(head.split(' ')[1]), head: head.toLowerCase(), json: body.startsWith('{') ? JSON.parse(body) : null });
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed before an answer: ${data.toString()}`)));
    socket.write(request);
  });
}

const GET_HEALTHZ = 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n';
const WS_UPGRADE =
  'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/**
 * A connection the server has admitted and counts until it closes: a keep-alive
 * connection it answered a request on; on uws, which counts requests in flight and
 * WebSockets (it has no hook where a TCP connection arrives: README, "Engines"), an
 * upgraded WebSocket.
 */
async function hold(port: number, localAddress?: string): Promise<Socket> {
  const socket = await open(port, localAddress);
  assert.equal((await ask(socket, ON_UWS ? WS_UPGRADE : GET_HEALTHZ)).status, ON_UWS ? 101 : 200);
  return socket;
}

/** A request on a fresh connection, answered and closed by the server. */
async function askFresh(port: number, request: string, localAddress?: string): Promise<Answer & { closed: Promise<void> }> {
  const socket = await open(port, localAddress);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  return { ...(await ask(socket, request)), closed };
}

const GET_AND_CLOSE = 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

/**
 * Retries `request` on fresh connections until it is admitted: the server sees a close a
 * moment after the client, however long that moment is on a busy machine (the deadline
 * only catches a server that never frees the slot).
 */
async function eventuallyAdmitted(port: number, request = GET_AND_CLOSE, status = 200): Promise<void> {
  const deadline = Date.now() + HANG_MS;
  for (;;) {
    const answer = await askFresh(port, request);
    if (answer.status === status) return;
    if (Date.now() > deadline) assert.fail(`still refused: ${JSON.stringify(answer.json)}`);
    await sleep(20);
  }
}

function closeAll(sockets: Socket[]): Promise<void[]> {
  return Promise.all(sockets.map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : (s.once('close', () => resolve()), s.destroy())))));
}

test('past --max-connections, HTTP and WebSocket upgrades get 503 too_many_connections until one closes', async (t) => {
  const server = await startTestServer(t, { maxConnections: 5, maxConnectionsPerIp: 5 });
  const held = await Promise.all([1, 2, 3, 4, 5].map(() => hold(server.port)));
  t.after(() => closeAll(held));

  const refused = await askFresh(server.port, GET_HEALTHZ);
  assert.equal(refused.status, 503);
  assert.equal(refused.json.error.code, 'too_many_connections');
  assert.match(refused.json.error.message, /--max-connections \(5\)/);
  assert.match(refused.head, /connection: close/);
  assert.match(refused.head, /retry-after: 1/);
  await refused.closed; // the server closes it

  const upgrade = await askFresh(server.port, WS_UPGRADE);
  assert.equal(upgrade.status, 503, 'answered before upgrading, not 101');
  assert.equal(upgrade.json.error.code, 'too_many_connections');
  assert.match(upgrade.head, /connection: close/);
  await upgrade.closed;

  // The admitted connections still work, and closing one frees its slot.
  if (!ON_UWS) assert.equal((await ask(held[0]!, GET_HEALTHZ)).status, 200);
  await closeAll(held.slice(0, 1));
  // A WebSocket upgrade goes through (101) once a slot is free; the server closes it at the end.
  await eventuallyAdmitted(server.port, WS_UPGRADE, 101);
});

test('past --max-connections-per-ip, one address is refused while another is still admitted', async (t) => {
  const server = await startTestServer(t, { maxConnections: 5, maxConnectionsPerIp: 3 });
  const held = await Promise.all([1, 2, 3].map(() => hold(server.port)));
  t.after(() => closeAll(held));

  const refused = await askFresh(server.port, GET_HEALTHZ);
  assert.equal(refused.status, 503);
  assert.equal(refused.json.error.code, 'too_many_connections');
  assert.match(refused.json.error.message, /--max-connections-per-ip \(3\)/);
  assert.match(refused.head, /connection: close/);
  await refused.closed;

  const upgrade = await askFresh(server.port, WS_UPGRADE);
  assert.equal(upgrade.status, 503);
  assert.equal(upgrade.json.error.code, 'too_many_connections');

  // Another loopback address has its own count (Linux routes all of 127.0.0.0/8 to lo).
  const other = await open(server.port, '127.0.0.2').catch(() => null);
  if (other !== null) {
    t.after(() => closeAll([other]));
    assert.equal((await ask(other, GET_HEALTHZ)).status, 200);
  }

  await closeAll(held.slice(0, 1));
  await eventuallyAdmitted(server.port);
});

test('past --max-concurrent-uploads, POST /jobs gets 503 too_many_uploads with Retry-After before its body is read', async (t) => {
  const server = await startTestServer(t, { maxConcurrentUploads: 1 });
  const boundary = 'limitsboundary';
  const content = 'x'.repeat(1000);
  const body =
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n` +
    `${content}\r\n--${boundary}--\r\n`;
  const half = Math.floor(body.length / 2);
  const slow = await open(server.port);
  t.after(() => closeAll([slow]));
  slow.write(
    `POST /jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` +
      body.slice(0, half),
  );
  // Half the body: once some of its file is on the spool, the upload is being received and holds the only slot.
  await waitFor(() => isUploading(join(server.dir, 'spool')), 'the first upload to reach the spool');

  const refused = await uploadFiles(server.url, [{ name: 'b.txt', content: 'hello' }]);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
  assert.equal(error.code, 'too_many_uploads');
  assert.match(error.message, /--max-concurrent-uploads \(1\)/);

  // The held upload finishes and frees the slot.
  const finished = await ask(slow, body.slice(half));
  assert.equal(finished.status, 202);
  const next = await uploadFiles(server.url, [{ name: 'c.txt', content: 'hello' }]);
  assert.equal(next.status, 202);
  await next.json();
});

test('config: the connection and upload limits are settings with defaults, flags, env and validation', () => {
  assert.equal(DEFAULTS.maxConnections, 10_000);
  assert.equal(DEFAULTS.maxConnectionsPerIp, 256);
  assert.equal(DEFAULTS.maxConcurrentUploads, 64);
  const { config } = loadConfig(['--max-connections', '50', '--max-connections-per-ip=5'], { JOBCAST_MAX_CONCURRENT_UPLOADS: '2' });
  assert.equal(config.maxConnections, 50);
  assert.equal(config.maxConnectionsPerIp, 5);
  assert.equal(config.maxConcurrentUploads, 2);
  const cases: Array<[string[], RegExp]> = [
    [['--max-connections', '0'], /--max-connections must be a whole number of at least 1/],
    [['--max-connections', 'lots'], /--max-connections must be a whole number/],
    [['--max-connections-per-ip', '-3'], /--max-connections-per-ip must be a whole number/],
    [['--max-concurrent-uploads', '0'], /--max-concurrent-uploads must be a whole number of at least 1/],
    [['--max-concurrent-uploads', '1.5'], /--max-concurrent-uploads must be a whole number/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => loadConfig(argv, {}), (err: Error) => err instanceof ConfigError && message.test(err.message), argv.join(' '));
  }
});
