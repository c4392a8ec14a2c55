// --trust-proxy: which address a request comes from. The rule, case by case (the module
// every engine uses), and over real sockets: X-Forwarded-For is read only on connections
// from a listed proxy; such a connection counts against --max-connections only, and each
// WebSocket it carries against its client's address. (test/nginx.test.ts shows the same
// through a real nginx.)

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, DEFAULTS, loadConfig } from '../server/config.js';
import { NO_PROXIES, trustProxies } from '../server/client-address.js';
import { HANG_MS } from './helpers/patience.js';
import { startTestServer } from './helpers/server.js';
import { createSyntheticJob } from './helpers/synthetic-job.js';

test('the client address: the peer unless it is a listed proxy, then the rightmost address of X-Forwarded-For that is not one', () => {
  const cases: Array<{ trust: string[]; peer: string; xff: string | undefined; expected: string; what: string }> = [
    { trust: [], peer: '127.0.0.1', xff: '203.0.113.7', expected: '127.0.0.1', what: 'no proxy listed: the header is never read' },
    { trust: ['127.0.0.1'], peer: '127.0.0.2', xff: '203.0.113.7', expected: '127.0.0.2', what: 'a peer that is not listed: its header is ignored' },
    { trust: ['127.0.0.1'], peer: '127.0.0.1', xff: '203.0.113.7', expected: '203.0.113.7', what: 'the proxy names the client' },
    { trust: ['127.0.0.1'], peer: '127.0.0.1', xff: undefined, expected: '127.0.0.1', what: 'the proxy sent no header: the proxy itself' },
    { trust: ['127.0.0.1'], peer: '127.0.0.1', xff: '', expected: '127.0.0.1', what: 'an empty header' },
    { trust: ['127.0.0.1'], peer: '127.0.0.1', xff: '6.6.6.6, 203.0.113.7', expected: '203.0.113.7', what: 'what the client wrote itself is left of its address: never read' },
    { trust: ['127.0.0.1', '10.0.0.0/8'], peer: '127.0.0.1', xff: '6.6.6.6, 203.0.113.7, 10.1.2.3', expected: '203.0.113.7', what: 'a chain of listed proxies is walked through' },
    { trust: ['127.0.0.1', '10.0.0.0/8'], peer: '127.0.0.1', xff: '10.9.9.9,10.1.2.3', expected: '10.9.9.9', what: 'every entry listed: the leftmost' },
    { trust: ['127.0.0.1'], peer: '::ffff:127.0.0.1', xff: '203.0.113.7', expected: '203.0.113.7', what: 'an IPv4-mapped peer matches its IPv4 entry' },
    { trust: ['::1'], peer: '::1', xff: '2001:db8::1', expected: '2001:db8::1', what: 'IPv6' },
    { trust: ['loopback'], peer: '127.0.0.5', xff: '198.51.100.1', expected: '198.51.100.1', what: 'a named range' },
    { trust: ['127.0.0.1'], peer: '127.0.0.1', xff: '203.0.113.7, not-an-address', expected: '127.0.0.1', what: 'an entry that is no address stops at the proxy that wrote it' },
    { trust: ['127.0.0.1'], peer: '127.0.0.1', xff: ' 198.51.100.1 ,\t203.0.113.7 ', expected: '203.0.113.7', what: 'blanks around entries' },
  ];
  for (const { trust, peer, xff, expected, what } of cases) {
    assert.equal(trustProxies(trust).clientOf(peer, xff), expected, what);
  }
  assert.equal(trustProxies([]), NO_PROXIES);
  assert.equal(trustProxies(['10.0.0.0/8']).isProxy('10.200.0.1'), true);
  assert.equal(trustProxies(['10.0.0.0/8']).isProxy('11.0.0.1'), false);
});

test('config: --trust-proxy is a list of addresses and ranges, none by default, and a bad entry stops the start', () => {
  assert.deepEqual(DEFAULTS.trustProxy, []);
  assert.deepEqual(loadConfig(['--trust-proxy', '127.0.0.1, 10.0.0.0/8,loopback'], {}).config.trustProxy, ['127.0.0.1', '10.0.0.0/8', 'loopback']);
  assert.deepEqual(loadConfig([], { JOBCAST_TRUST_PROXY: '::1' }).config.trustProxy, ['::1']);
  for (const bad of ['nginx', '10.0.0.0/33', '300.1.1.1', '127.0.0.1,*']) {
    assert.throws(
      () => loadConfig(['--trust-proxy', bad], {}),
      (err: Error) => err instanceof ConfigError && /^--trust-proxy must list proxy addresses/.test(err.message),
      bad,
    );
  }
});

/** Sends a WebSocket upgrade from `localAddress` with `forwardedFor`; resolves with the status and the socket (open after a 101). */
function upgrade(port: number, localAddress: string, forwardedFor?: string): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.write(
        'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
          (forwardedFor === undefined ? '' : `X-Forwarded-For: ${forwardedFor}\r\n`) +
          '\r\n',
      );
    });
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n')) return;
      head += chunk.toString('latin1');
      if (head.includes('\r\n')) resolve({ status: Number(head.split(' ')[1]), socket });
    });
    socket.on('error', () => {});
    socket.once('close', () => reject(new Error(`closed before an answer: ${head}`)));
  });
}

async function held(t: TestContext, port: number, localAddress: string, forwardedFor?: string): Promise<Socket> {
  const { status, socket } = await upgrade(port, localAddress, forwardedFor);
  t.after(() => socket.destroy());
  assert.equal(status, 101, `upgrade from ${localAddress} for ${forwardedFor ?? 'itself'}`);
  return socket;
}

/** Retries until an upgrade is admitted: the server sees a close a moment after the client. */
async function eventuallyUpgraded(t: TestContext, port: number, localAddress: string, forwardedFor: string): Promise<void> {
  const deadline = Date.now() + HANG_MS;
  for (;;) {
    const { status, socket } = await upgrade(port, localAddress, forwardedFor);
    t.after(() => socket.destroy());
    if (status === 101) return;
    socket.destroy();
    if (Date.now() > deadline) assert.fail(`still refused: ${status}`);
    await sleep(20);
  }
}

test('without --trust-proxy, X-Forwarded-For changes nothing: connections count against their peer', async (t) => {
  const server = await startTestServer(t, { maxConnectionsPerIp: 2 });
  await held(t, server.port, '127.0.0.1', '198.51.100.1');
  await held(t, server.port, '127.0.0.1', '198.51.100.2');
  const third = await upgrade(server.port, '127.0.0.1', '198.51.100.3');
  t.after(() => third.socket.destroy());
  assert.equal(third.status, 503, 'a third connection from the same peer is refused, whatever the header says');
});

test('with --trust-proxy, a proxy connection counts against the total only, and each WebSocket against its client', async (t) => {
  const server = await startTestServer(t, { maxConnectionsPerIp: 2, maxConnections: 7, trustProxy: ['127.0.0.1'] });
  const port = server.port;
  // Four WebSockets through the "proxy" (127.0.0.1), two clients each at their cap.
  await held(t, port, '127.0.0.1', '198.51.100.1');
  const firstOfA = await held(t, port, '127.0.0.1', '6.6.6.6, 198.51.100.1');
  await held(t, port, '127.0.0.1', '198.51.100.2');
  await held(t, port, '127.0.0.1', '198.51.100.2');
  const overA = await upgrade(port, '127.0.0.1', '198.51.100.1');
  t.after(() => overA.socket.destroy());
  assert.equal(overA.status, 503, "a third WebSocket of one client is refused, though the proxy's own count is four");
  // A peer that is not listed is counted by its own address, whatever it claims.
  await held(t, port, '127.0.0.2', '198.51.100.3');
  await held(t, port, '127.0.0.2', '198.51.100.4');
  const overPeer = await upgrade(port, '127.0.0.2', '198.51.100.5');
  t.after(() => overPeer.socket.destroy());
  assert.equal(overPeer.status, 503, 'an unlisted peer cannot spread itself over addresses it names');
  // The client's count goes down when one of its WebSockets closes.
  firstOfA.destroy();
  await eventuallyUpgraded(t, port, '127.0.0.1', '198.51.100.1');
  // --max-connections still counts the proxy's connections: 4 + 2 held, + 1 = 7 of 7 (once
  // the refused ones above are closed on the server's side too).
  await eventuallyUpgraded(t, port, '127.0.0.1', '198.51.100.9');
  const overTotal = await upgrade(port, '127.0.0.1', '198.51.100.10');
  t.after(() => overTotal.socket.destroy());
  assert.equal(overTotal.status, 503, 'past --max-connections');
});

/** Sends `GET path` from `localAddress` with `forwardedFor`; resolves with the status once the head is in (an SSE stream stays open). */
function getHead(t: TestContext, port: number, localAddress: string, path: string, forwardedFor: string): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: ${forwardedFor}\r\n\r\n`);
    });
    t.after(() => socket.destroy());
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (head.includes('\r\n')) return;
      head += chunk.toString('latin1');
      if (head.includes('\r\n')) resolve({ status: Number(head.split(' ')[1]), socket });
    });
    socket.on('error', () => {});
    socket.once('close', () => reject(new Error(`closed before an answer: ${head}`)));
  });
}

test('with --trust-proxy, a proxied request counts against its client for as long as it lasts (SSE streams)', async (t) => {
  const server = await startTestServer(t, { maxConnectionsPerIp: 2, trustProxy: ['127.0.0.1'] });
  const job = await createSyntheticJob(server);
  const events = `/jobs/${job}/events`;
  const first = await getHead(t, server.port, '127.0.0.1', events, '198.51.100.1');
  assert.equal(first.status, 200);
  assert.equal((await getHead(t, server.port, '127.0.0.1', events, '198.51.100.1')).status, 200);
  assert.equal((await getHead(t, server.port, '127.0.0.1', events, '198.51.100.1')).status, 503, 'a third open stream of one client');
  assert.equal((await getHead(t, server.port, '127.0.0.1', events, '198.51.100.2')).status, 200, 'another client through the same proxy');
  // A stream that ends gives its place back.
  first.socket.destroy();
  const deadline = Date.now() + HANG_MS;
  for (;;) {
    const again = await getHead(t, server.port, '127.0.0.1', events, '198.51.100.1');
    if (again.status === 200) break;
    again.socket.destroy();
    if (Date.now() > deadline) assert.fail(`still refused: ${again.status}`);
    await sleep(20);
  }
});
