// DNS rebinding (SPEC 5 --allowed-hosts): a page on `http://evil.example:PORT` whose name
// resolves to 127.0.0.1 is, to the browser, its own origin; it could list, read, cancel
// and delete the jobs of a default server (loopback, no token), and open its WebSocket,
// since the Host header was never checked and the Origin was compared with that Host.
// Every request and WebSocket upgrade must name a host the server answers as (421
// misdirected_request otherwise), and an Origin must match scheme, host and port.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostPolicy, isAllowedHost, isAllowedOrigin } from '../server/http/door.js';
import { browserSkipReason, launchBrowser } from './helpers/browser.js';
import { createJob } from './helpers/http.js';
import { RawConnection, type RawResponse } from './helpers/raw-http.js';
import { ON_UWS, startTestServer } from './helpers/server.js';
import { connectWs } from './helpers/ws-client.js';
import { TEST_HANG_MS } from './helpers/patience.js';

const skip = browserSkipReason() ?? false;

/** Sends `head` (request line and headers, no body) on a fresh connection and resolves with the answer. */
async function ask(port: number, head: string): Promise<RawResponse> {
  const conn = await RawConnection.open(port);
  await conn.write(`${head}\r\nConnection: close\r\n\r\n`);
  const response = await conn.response;
  conn.cut();
  assert.ok(response !== null, `an answer to ${head.split('\r\n')[0]}`);
  return response;
}

/** Whether `head` is closed by the server without an answer. */
async function unanswered(port: number, head: string): Promise<boolean> {
  const conn = await RawConnection.open(port);
  await conn.write(`${head}\r\nConnection: close\r\n\r\n`);
  const response = await conn.response;
  await conn.closed;
  return response === null && conn.isClosedByServer;
}

/** The status line's code of the answer to an upgrade request (a 101 has no body to wait for). */
async function upgradeStatus(port: number, host: string): Promise<number> {
  const conn = await RawConnection.open(port);
  const head = new Promise<string>((resolve) => {
    let text = '';
    conn.socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\n')) resolve(text);
    });
    conn.socket.on('close', () => resolve(text));
  });
  await conn.write(`GET /ws HTTP/1.1\r\nHost: ${host}\r\n${UPGRADE}\r\n\r\n`);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(await head)?.[1] ?? 0);
  conn.cut();
  return status;
}

const UPGRADE = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13';

test('a foreign Host gets 421 misdirected_request on every route and on the WebSocket upgrade; the loopback names are served', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const job = await createJob(server.url, [{ name: 'a.txt', content: 'secret' }]);
  const port = server.port;
  const foreign = `Host: evil.example:${port}`;
  for (const line of [
    'GET /jobs HTTP/1.1',
    `GET /jobs/${job.id} HTTP/1.1`,
    `GET /jobs/${job.id}/events HTTP/1.1`,
    `POST /jobs/${job.id}/cancel HTTP/1.1`,
    `DELETE /jobs/${job.id} HTTP/1.1`,
    'GET /healthz HTTP/1.1',
    'GET / HTTP/1.1',
  ]) {
    const answer = await ask(port, `${line}\r\n${foreign}`);
    assert.equal(answer.status, 421, line);
    assert.equal(answer.json.error.code, 'misdirected_request', line);
  }
  // The upgrade is refused before it happens: no 101, no socket for the page.
  const upgrade = await ask(port, `GET /ws HTTP/1.1\r\n${foreign}\r\n${UPGRADE}`);
  assert.equal(upgrade.status, 421);
  assert.equal(upgrade.json.error.code, 'misdirected_request');
  // An absolute-form target names the host instead of the Host header (RFC 9112 3.2.2).
  // uWS routes no absolute-form target: it closes the connection unanswered (README, "Engines").
  if (ON_UWS) assert.equal(await unanswered(port, `GET http://evil.example:${port}/jobs HTTP/1.1\r\nHost: 127.0.0.1:${port}`), true);
  else assert.equal((await ask(port, `GET http://evil.example:${port}/jobs HTTP/1.1\r\nHost: 127.0.0.1:${port}`)).status, 421);

  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost', 'LOCALHOST.:8080']) {
    const answer = await ask(port, `GET /jobs/${job.id} HTTP/1.1\r\nHost: ${host}`);
    assert.equal(answer.status, 200, host);
    assert.equal(answer.json.id, job.id, host);
  }
  assert.equal(await upgradeStatus(port, `localhost:${port}`), 101);
  const after = await fetch(`${server.url}/jobs/${job.id}`);
  assert.equal(after.status, 200, 'the foreign DELETE deleted nothing');
  assert.notEqual(((await after.json()) as { status: string }).status, 'cancelled', 'the foreign cancel cancelled nothing');
});

test('Origin must match scheme, host and port: https:// and another port are refused with 1008, http://HOST:PORT is served', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const port = server.port;
  for (const origin of [`https://127.0.0.1:${port}`, `http://127.0.0.1:${port + 1}`, `http://localhost:${port}`, `http://evil.example:${port}`]) {
    const client = await connectWs(t, server.url, { headers: { origin } });
    assert.equal((await client.waitClosed()).code, 1008, origin);
  }
  const own = await connectWs(t, server.url, { headers: { origin: `http://127.0.0.1:${port}` } });
  await own.roundTrip();
  assert.ok(own.isOpen);
});

test('--allowed-hosts adds names (any port, or one port); on 0.0.0.0 any IP address is answered, names only when listed', { timeout: TEST_HANG_MS }, async (t) => {
  const named = await startTestServer(t, { allowedHosts: ['jobs.example.com', 'ops.example.com:9000'] });
  const ask200 = async (port: number, host: string) => (await ask(port, `GET /healthz HTTP/1.1\r\nHost: ${host}`)).status;
  assert.equal(await ask200(named.port, `jobs.example.com:${named.port}`), 200);
  assert.equal(await ask200(named.port, 'ops.example.com:9000'), 200);
  assert.equal(await ask200(named.port, `ops.example.com:${named.port}`), 421);
  assert.equal(await ask200(named.port, `127.0.0.1:${named.port}`), 200, 'the defaults stay');

  const wildcard = await startTestServer(t, { host: '0.0.0.0' });
  assert.equal(await ask200(wildcard.port, `10.1.2.3:${wildcard.port}`), 200);
  assert.equal(await ask200(wildcard.port, `[fd00::1]:${wildcard.port}`), 200);
  assert.equal(await ask200(wildcard.port, `localhost:${wildcard.port}`), 200);
  assert.equal(await ask200(wildcard.port, `myhost:${wildcard.port}`), 421);

  const open = await startTestServer(t, { allowedHosts: ['*'] });
  assert.equal(await ask200(open.port, 'anything.example'), 200);
});

test('the Host and Origin rules, case by case', () => {
  const loopback = hostPolicy('127.0.0.1', []);
  const cases: Array<[string | undefined, boolean]> = [
    ['localhost', true], ['localhost:8080', true], ['127.0.0.1:1', true], ['[::1]:8080', true], ['LocalHost', true],
    ['localhost.', true], [undefined, true],
    ['127.0.0.2:8080', false], ['evil.example', false], ['localhost.evil.example', false], ['[::1', false], ['', false],
    ['10.0.0.1', false], ['localhost:8080:1', false],
  ];
  for (const [host, expected] of cases) assert.equal(isAllowedHost(host, loopback), expected, String(host));
  const lan = hostPolicy('192.168.1.5', ['jobs.lan']);
  assert.equal(isAllowedHost('192.168.1.5:8080', lan), true);
  assert.equal(isAllowedHost('jobs.lan', lan), true);
  assert.equal(isAllowedHost('192.168.1.6:8080', lan), false);
  assert.equal(isAllowedHost('localhost', lan), false, 'a server on one LAN address is not reachable as localhost');
  assert.equal(isAllowedHost('[fe80::1]', hostPolicy('fe80::1', [])), true);

  assert.equal(isAllowedOrigin('http://127.0.0.1:8080', '127.0.0.1:8080', []), true);
  assert.equal(isAllowedOrigin('http://127.0.0.1', '127.0.0.1:80', []), true, 'the default port');
  assert.equal(isAllowedOrigin('https://127.0.0.1:8080', '127.0.0.1:8080', []), false);
  assert.equal(isAllowedOrigin('http://127.0.0.1:8081', '127.0.0.1:8080', []), false);
  assert.equal(isAllowedOrigin('null', '127.0.0.1:8080', []), false);
  assert.equal(isAllowedOrigin('https://dash.example.com', '127.0.0.1:8080', ['https://dash.example.com']), true);
  assert.equal(isAllowedOrigin('https://dash.example.com:443', '127.0.0.1:8080', ['https://dash.example.com']), true);
});

test('in Chromium, a page on a rebound name can read nothing and open no WebSocket; the same page on 127.0.0.1 can', { skip, timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const job = await createJob(server.url, [{ name: 'a.txt', content: 'secret' }]);
  // evil.example resolves to 127.0.0.1, as the attacker's DNS makes it do after the page has loaded.
  const browser = await launchBrowser(t, ['--host-resolver-rules=MAP evil.example 127.0.0.1']);
  const probe = async (origin: string) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    t.after(() => context.close());
    const loaded = await page.goto(`${origin}/healthz`);
    return page.evaluate(async (id) => {
      const list = await fetch('/jobs');
      const one = await fetch(`/jobs/${id}`);
      const socket = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://${(globalThis as any).location.host}/ws`);
        ws.onopen = () => resolve('open');
        ws.onclose = (event) => resolve(`closed ${event.code}`);
      });
      return { list: list.status, listBody: await list.text(), one: one.status, socket };
    }, job.id).then((result) => ({ page: loaded?.status(), ...result }));
  };
  const rebound = await probe(`http://evil.example:${server.port}`);
  assert.deepEqual({ ...rebound, listBody: JSON.parse(rebound.listBody).error.code }, {
    page: 421, list: 421, listBody: 'misdirected_request', one: 421, socket: 'closed 1006',
  });
  const own = await probe(`http://127.0.0.1:${server.port}`);
  assert.equal(own.page, 200);
  assert.equal(own.list, 200);
  assert.equal(JSON.parse(own.listBody).jobs[0].id, job.id);
  assert.equal(own.one, 200);
  assert.equal(own.socket, 'open');
});
