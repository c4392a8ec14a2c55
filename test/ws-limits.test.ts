// Hostile and mistaken clients on /ws (SPEC 3.3, 7 "bad input"): errors that keep the
// connection open, subscription limits, unsubscribe, close codes 1008 and 1009, heartbeat.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer } from './helpers/server.js';
import { appendProgress, createSyntheticJob } from './helpers/synthetic-job.js';
import { connectWs, jobOf, waitFor, type Message } from './helpers/ws-client.js';
import { HANG_MS, TEST_HANG_MS } from './helpers/patience.js';

const isError = (m: Message): m is Extract<Message, { type: 'error' }> => m.type === 'error';

test('malformed messages get bad_message, an unknown job job_not_found, and the connection stays open', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const client = await connectWs(t, server.url);
  const cases: Array<{ what: string; input: string }> = [
    { what: 'not JSON', input: '{"op": "subscribe",' },
    { what: 'empty text', input: '' },
    { what: 'an array', input: '[{"op": "ping"}]' },
    { what: 'a string', input: '"ping"' },
    { what: 'a number', input: '5' },
    { what: 'null', input: 'null' },
    { what: 'no op', input: '{"job": "abc"}' },
    { what: 'unknown op', input: '{"op": "publish", "job": "abc"}' },
    { what: 'since as a string', input: '{"op": "subscribe", "job": "abc", "since": "5"}' },
    { what: 'negative since', input: '{"op": "subscribe", "job": "abc", "since": -1}' },
    { what: 'fractional since', input: '{"op": "subscribe", "job": "abc", "since": 1.5}' },
    { what: 'numeric job', input: '{"op": "subscribe", "job": 5}' },
    { what: 'missing job', input: '{"op": "subscribe"}' },
    { what: 'job with a slash', input: '{"op": "subscribe", "job": "../etc"}' },
    { what: 'since on *', input: '{"op": "subscribe", "job": "*", "since": 1}' },
    { what: 'unsubscribe without job', input: '{"op": "unsubscribe"}' },
  ];
  for (const { what, input } of cases) {
    client.send(input);
    const answer = await client.next();
    assert.ok(isError(answer), `${what}: an error message`);
    assert.equal(answer.code, 'bad_message', what);
    assert.equal(typeof answer.message, 'string');
  }
  client.ws.send(Buffer.from('{"op": "ping"}'), { binary: true });
  const binary = await client.next();
  assert.ok(isError(binary) && binary.code === 'bad_message', 'a binary frame is a bad_message');

  const unknown = await client.subscribe('V1StGXR8_Z5jdHi6B-myT');
  assert.deepEqual([unknown.type, isError(unknown) && unknown.code, unknown.job], ['error', 'job_not_found', 'V1StGXR8_Z5jdHi6B-myT']);
  // The failed subscription is not held: the job stays unknown and the slot free.
  assert.equal(server.hub.size, 1);
  client.send({ op: 'ping' });
  assert.deepEqual(await client.next(), { type: 'pong' });
  assert.ok(client.isOpen);
  t.diagnostic(`${cases.length + 2} bad requests answered on one connection`);
});

test('too_many_subscriptions past --max-subscriptions; unsubscribing frees a slot; resubscribing costs none', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { maxSubscriptions: 3 });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push(await createSyntheticJob(server));
  const client = await connectWs(t, server.url);
  for (const id of ids.slice(0, 3)) assert.equal((await client.subscribe(id)).type, 'subscribed');
  const refused = await client.subscribe(ids[3]!);
  assert.deepEqual([refused.type, isError(refused) && refused.code, refused.job], ['error', 'too_many_subscriptions', ids[3]]);
  const star = await client.subscribe('*');
  assert.deepEqual([star.type, isError(star) && star.code], ['error', 'too_many_subscriptions']);
  // Subscribing again to a job already held (a resume on the same connection) is not a new slot.
  assert.equal((await client.subscribe(ids[0]!, 3)).type, 'subscribed');
  // A refused subscription delivers nothing.
  await appendProgress(server, ids[3]!, 10);
  await client.roundTrip();
  assert.deepEqual(client.received.filter((m) => jobOf(m) === ids[3] && m.type !== 'error'), []);

  client.send({ op: 'unsubscribe', job: ids[1] });
  assert.deepEqual(await client.next(), { type: 'unsubscribed', job: ids[1] });
  assert.equal((await client.subscribe(ids[3]!)).type, 'subscribed');
});

test('unsubscribe: acknowledged, and no event of that job arrives afterwards while others still do', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t);
  const id = await createSyntheticJob(server);
  const leaving = await connectWs(t, server.url);
  const staying = await connectWs(t, server.url);
  await leaving.subscribe(id);
  await staying.subscribe(id);
  await appendProgress(server, id, 1);
  assert.equal((await leaving.nextOf('event', id)).seq, 4);

  leaving.send({ op: 'unsubscribe', job: id });
  assert.deepEqual(await leaving.next(), { type: 'unsubscribed', job: id });
  for (let done = 2; done <= 10; done++) await appendProgress(server, id, done);
  await staying.next((m) => m.type === 'event' && m.seq === 13, HANG_MS, 'seq 13');
  // Every frame sent before the pong has arrived by the time the pong does.
  await leaving.roundTrip();
  assert.deepEqual(
    leaving.received.filter((m) => m.type === 'event' && m.seq > 4),
    [],
    'no event after unsubscribe',
  );
  assert.deepEqual(staying.tracker.view(id).gaps, []);
  // Unsubscribing a job never subscribed is acknowledged too.
  leaving.send({ op: 'unsubscribe', job: 'never-subscribed' });
  assert.deepEqual(await leaving.next(), { type: 'unsubscribed', job: 'never-subscribed' });
});

test('a frame larger than --max-message-size closes with 1009; one at the limit is served', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { maxMessageSize: 1024 });
  const client = await connectWs(t, server.url);
  const atLimit = JSON.stringify({ op: 'ping', pad: '' });
  client.send(atLimit.replace('""', `"${'x'.repeat(1024 - atLimit.length)}"`));
  assert.deepEqual(await client.next(), { type: 'pong' });
  client.send({ op: 'ping', pad: 'x'.repeat(2000) });
  assert.equal((await client.waitClosed()).code, 1009);
  // The server is fine: the next connection works.
  const next = await connectWs(t, server.url);
  await next.roundTrip();
});

test('Origin: a foreign one closes with 1008; same-origin and --allowed-origins are served', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { allowedOrigins: ['https://dash.example.com'] });
  const foreign = await connectWs(t, server.url, { headers: { origin: 'https://evil.example.com' } });
  assert.equal((await foreign.waitClosed()).code, 1008);
  const garbage = await connectWs(t, server.url, { headers: { origin: 'null' } });
  assert.equal((await garbage.waitClosed()).code, 1008);
  for (const origin of ['https://dash.example.com', server.url]) {
    const client = await connectWs(t, server.url, { headers: { origin } });
    await client.roundTrip();
    assert.ok(client.isOpen, origin);
  }
  // No Origin: not a browser, nothing to check.
  await (await connectWs(t, server.url)).roundTrip();
});

test('heartbeat: a client that never answers pings is dropped, one that answers stays', { timeout: TEST_HANG_MS }, async (t) => {
  // The healthy client is dropped only if it leaves two pings in a row unanswered: with a
  // second between pings, only a hang of this process could make it.
  const heartbeatMs = 1000;
  const server = await startTestServer(t, { heartbeatMs });
  const startedAt = Date.now();
  let pingsToSilent = 0;
  let pingsToHealthy = 0;
  const silent = await connectWs(t, server.url, { autoPong: false });
  silent.ws.on('ping', () => pingsToSilent++);
  const healthy = await connectWs(t, server.url);
  healthy.ws.on('ping', () => pingsToHealthy++);
  const closed = await silent.waitClosed();
  const afterMs = Date.now() - startedAt;
  t.diagnostic(`silent client dropped after ${afterMs} ms and ${pingsToSilent} pings`);
  assert.equal(closed.code, 1006, 'terminated, without a close frame');
  assert.ok(pingsToSilent >= 2, 'it was pinged twice first');
  assert.ok(afterMs >= 2 * heartbeatMs, 'not before two heartbeats went unanswered');
  // The healthy client goes through the same heartbeats and is still served.
  await waitFor(() => pingsToHealthy >= 3, 'three heartbeats on the healthy client');
  assert.ok(healthy.isOpen);
  await healthy.roundTrip();
  await waitFor(() => server.hub.size === 1, 'the hub to forget the dropped connection');
});
