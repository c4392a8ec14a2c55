// Requests Node's HTTP parser rejects get the JSON error shape of SPEC 2 too, and the
// server goes on serving.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawConnection, rawGet, type RawResponse } from './helpers/raw-http.js';
import { ON_UWS, startTestServer } from './helpers/server.js';

/** Sends `bytes` on a fresh connection; resolves with the answer once the server has closed it. */
async function sendRaw(port: number, bytes: string): Promise<RawResponse> {
  const conn = await RawConnection.open(port);
  await conn.write(bytes);
  const response = await conn.response;
  await conn.closed;
  assert.ok(response !== null, 'an answer before the close');
  assert.ok(conn.isClosedByServer, 'the server closes the connection');
  return response;
}

// uws answers these by closing the connection (README, "Engines"): each engine runs its own test.
if (!ON_UWS) test('unparsable requests get 400 malformed_request or 431 headers_too_large as JSON, then the connection closes', async (t) => {
  const server = await startTestServer(t);
  const cases: Array<[string, string, number, string]> = [
    ['no HTTP at all', 'hello there\r\n\r\n', 400, 'malformed_request'],
    ['a header line without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n', 400, 'malformed_request'],
    ['a space in the method', 'G ET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'malformed_request'],
    ['a bad chunk size', 'POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\nzz\r\n', 400, 'malformed_request'],
    ['headers past 16 KiB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
  ];
  for (const [what, bytes, status, code] of cases) {
    const response = await sendRaw(server.port, bytes);
    assert.equal(response.status, status, what);
    assert.equal(response.headers['content-type'], 'application/json; charset=utf-8', what);
    assert.equal(response.json?.error?.code, code, what);
    assert.equal(typeof response.json.error.message, 'string', what);
    assert.equal(response.headers.connection, 'close', what);
  }
  assert.equal((await rawGet(server.port, '/healthz')).status, 200, 'the server still serves');
});

if (ON_UWS) test('on uws, unparsable requests close the connection without an answer; headers past 16 KiB get 431 as JSON', async (t) => {
  const server = await startTestServer(t);
  // uWS's parser gives no hook for what it cannot parse: the connection is closed (at
  // once, or at uWS's 10 s idle timeout), never answered with anything else.
  for (const [what, bytes] of [
    ['no HTTP at all', 'hello there\r\n\r\n'],
    ['a header line without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n'],
    ['a space in the method', 'G ET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a bad chunk size', 'POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\nzz\r\n'],
  ]) {
    const conn = await RawConnection.open(server.port);
    await conn.write(bytes!);
    const response = await conn.response;
    await conn.closed;
    assert.equal(response, null, `${what}: no answer`);
  }
  // uWS cuts a body announced with 1,000,000,000 bytes or more before any route sees it (README, "Engines").
  const huge = await RawConnection.open(server.port);
  await huge.write('POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000000\r\n\r\n--b');
  assert.equal(await huge.response, null, 'a Content-Length of 10 digits: no answer');
  await huge.closed;
  // The header limit is the engine's own check: the same answer as on the ws engine.
  const response = await sendRaw(server.port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.equal(response.status, 431);
  assert.equal(response.json?.error?.code, 'headers_too_large');
  assert.equal(response.headers.connection, 'close');
  assert.equal((await rawGet(server.port, '/healthz')).status, 200, 'the server still serves');
});
