// Hostile WebSocket clients (SPEC 3.3, 7 "bad input") against a real server over
// loopback: thousands of messages made from a seed: random JSON values, non-objects,
// deep nesting, huge and odd numbers as `since`, wrong types for op/job/since, unknown
// ops, long and prototype-named job ids, binary and empty frames, then floods of
// subscribe/unsubscribe to real jobs, unknown jobs and `*`, past --max-subscriptions.
// On their own connections: frames over --max-message-size (1009) and text frames that
// are not UTF-8 (ws closes those with 1007, the RFC 6455 code; SPEC 3.3 names none).
//
// Each request class has its answer: bad_message for anything that is not a valid op
// (sent at once, so counted exactly), pong for ping, unsubscribed for unsubscribe,
// unauthorized for `*` without the token, too_many_subscriptions past the limit
// (counted exactly: the limit is checked when the message arrives). A valid subscribe
// gets subscribed (or job_not_found); one superseded by a later subscribe or an
// unsubscribe of the same job while the store is read gets nothing, so those are
// counted as "at most one per request, and the last one answered".
// Afterwards the server still serves a normal client, the hub holds no session, and
// open fds and the heap are back near where they started.
//
// JOBCAST_FUZZ_SEED and JOBCAST_FUZZ_ROUNDS replay or widen a run.

import assert from 'node:assert/strict';
import { get } from 'node:http';
import { test, type TestContext } from 'node:test';
import { fdCounts, findGc, heapAfterGc } from './helpers/process-stats.js';
import { ON_UWS, startTestServer } from './helpers/server.js';
import { appendProgress, createSyntheticJob, finishSyntheticJob } from './helpers/synthetic-job.js';
import { connectWs, waitFor, type Message, type WsClient } from './helpers/ws-client.js';
import { HANG_MS, TEST_HANG_MS } from './helpers/patience.js';

const SEED = Number(process.env.JOBCAST_FUZZ_SEED ?? 0x77eb5eed);
const ROUNDS = Number(process.env.JOBCAST_FUZZ_ROUNDS ?? 24);
/** Messages per round per fuzz connection. */
const BURST = 250;
/** Messages per subscribe/unsubscribe flood. */
const FLOOD = 2000;
const TOKEN = 'fuzz-token-0123456789';
const MAX_MESSAGE_SIZE = 64 * 1024;
const FLOOD_MAX_SUBSCRIPTIONS = 16;
/** Only catches a hang (test/helpers/patience.ts). */
const DEADLINE_MS = HANG_MS;
/** --max-messages-per-second high enough never to be reached. */
const UNLIMITED_RATE = 1e9;

/** mulberry32: small, fast, reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  string(max = 12): string {
    const alphabet = 'abcXYZ019_-*/.\\"\u0000\u00e9\u2603\ud83d\ude00 {}[]:,';
    let s = '';
    for (let i = this.int(max + 1); i > 0; i--) s += this.pick([...alphabet]);
    return s;
  }
  /** A random JSON value (depth-bounded). */
  value(depth = 0): unknown {
    const kind = this.int(depth > 3 ? 5 : 7);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 5e-324, this.int(1e9)]);
      case 3:
        return this.string();
      case 4:
        return this.pick(['subscribe', 'unsubscribe', 'ping', '*', 'SUBSCRIBE', 'pong']);
      case 5:
        return Array.from({ length: this.int(4) }, () => this.value(depth + 1));
      default: {
        const out: Record<string, unknown> = {};
        for (let i = this.int(4); i > 0; i--) out[this.pick(['op', 'job', 'since', 'type', 'x', this.string(4)])] = this.value(depth + 1);
        return out;
      }
    }
  }
}

/** What a request must get back. */
type Expect =
  | { kind: 'sync'; sig: string } // sent at once, in order: counted exactly
  | { kind: 'subscribe'; job: string; sig: string } // subscribed:<job> or error:job_not_found:<job>
  | { kind: 'none' };

interface Case {
  what: string;
  data: string | Buffer;
  binary?: boolean;
  expect: Expect;
}

/** Answers received, by kind (error code or message type), over every burst. */
const answers = new Map<string, number>();

const BAD: Expect = { kind: 'sync', sig: 'error:bad_message:' };

function signature(m: Message): string | null {
  switch (m.type) {
    case 'error':
      return `error:${m.code}:${m.job ?? ''}`;
    case 'subscribed':
    case 'unsubscribed':
      return `${m.type}:${m.job}`;
    case 'pong':
      return 'pong';
    default:
      return null;
  }
}

/** The server's answer to a valid op, given what the client may do and the jobs that exist. */
interface Model {
  realJobs: readonly string[];
  mayWatchAll: boolean;
  /** null: no limit reached in this phase (the bursts stay far below it). */
  maxSubscriptions: number | null;
  held: Set<string>;
}

function subscribeCase(model: Model, what: string, job: string, since?: number | string): Case {
  const data = since === undefined ? JSON.stringify({ op: 'subscribe', job }) : `{"op":"subscribe","job":${JSON.stringify(job)},"since":${since}}`;
  if (job === '*' && since !== undefined) return { what: 'since on *', data, expect: BAD };
  if (job === '*') {
    if (!model.mayWatchAll) return { what, data, expect: { kind: 'sync', sig: 'error:unauthorized:*' } };
  }
  if (model.maxSubscriptions !== null && !model.held.has(job) && model.held.size >= model.maxSubscriptions) {
    return { what, data, expect: { kind: 'sync', sig: `error:too_many_subscriptions:${job}` } };
  }
  const isKnown = job === '*' || model.realJobs.includes(job);
  // An unknown job holds its slot only until the store answers: not modelled in the flood phase.
  if (isKnown) model.held.add(job);
  return { what, data, expect: { kind: 'subscribe', job, sig: isKnown ? `subscribed:${job}` : `error:job_not_found:${job}` } };
}

function unsubscribeCase(model: Model, job: string): Case {
  model.held.delete(job);
  return { what: 'unsubscribe', data: JSON.stringify({ op: 'unsubscribe', job }), expect: { kind: 'sync', sig: `unsubscribed:${job}` } };
}

/** SPEC 3.3: job ids are nanoid()s (this server takes 1 to 64 of their characters), or `*`. */
const JOB_ID = /^(\*|[A-Za-z0-9_-]{1,64})$/;

const PROTO_IDS = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'prototype', 'valueOf'];

function nested(depth: number, open = '[', close = ']'): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** One hostile or valid request for the mixed rounds. */
function makeCase(g: Gen, model: Model): Case {
  const real = () => g.pick(model.realJobs);
  const unknown = () => g.pick([...PROTO_IDS, 'V1StGXR8_Z5jdHi6B-myT', 'x'.repeat(64), '-', '_', g.string(0) + 'nope' + g.int(1e6)]);
  switch (g.int(24)) {
    case 0: {
      // A random JSON value: judged by the rules of SPEC 3.3 (value() can make valid ops and job ids).
      const value = g.value();
      const text = JSON.stringify(value) ?? 'null';
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { what: 'random JSON non-object', data: text, expect: BAD };
      const { op, job, since } = value as Record<string, unknown>;
      if (op === 'ping') return { what: 'random object with op ping', data: text, expect: { kind: 'sync', sig: 'pong' } };
      const isJob = typeof job === 'string' && JOB_ID.test(job);
      if (op === 'unsubscribe' && isJob) return { ...unsubscribeCase(model, job), what: 'random unsubscribe', data: text };
      if (op === 'subscribe' && isJob && since === undefined) return { ...subscribeCase(model, 'random subscribe', job), data: text };
      const isSince = typeof since === 'number' && Number.isSafeInteger(since) && since >= 0;
      if (op === 'subscribe' && isJob && isSince && job !== '*') return { ...subscribeCase(model, 'random subscribe since', job, since), data: text };
      return { what: 'random JSON value', data: text, expect: BAD };
    }
    case 1:
      return { what: 'non-object', data: g.pick(['null', 'true', '0', '-0', '1e308', '"subscribe"', '[]', '[{"op":"ping"}]', '""', '[null]']), expect: BAD };
    case 2:
      return { what: 'not JSON', data: g.pick(['{', '{"op":"ping"', "{'op':'ping'}", 'NaN', 'undefined', '{"op":"ping",}', '\u0000', ' ', '\ufeff{"op":"ping"}', g.string(30)]), expect: BAD };
    case 3:
      return { what: 'empty text frame', data: '', expect: BAD };
    case 4:
      return { what: 'binary frame', data: Buffer.from(g.pick(['{"op":"ping"}', '', '\u0000\u00ff', JSON.stringify({ op: 'subscribe', job: real() })])), binary: true, expect: BAD };
    case 5: {
      // Deep nesting within --max-message-size: still just an array, or a ping carrying one.
      const depth = g.pick([1000, 5000, 10_000, 16_000]);
      if (g.chance(0.5)) return { what: `${depth} nested arrays`, data: nested(depth), expect: BAD };
      if (g.chance(0.5)) return { what: `ping with ${depth} nested arrays`, data: `{"op":"ping","x":${nested(depth)}}`, expect: { kind: 'sync', sig: 'pong' } };
      return { what: `op as ${depth / 10} nested objects`, data: `{"op":${'{"a":'.repeat(depth / 10)}1${'}'.repeat(depth / 10)}}`, expect: BAD };
    }
    case 6: {
      // since: huge, fractional, negative, exponent forms, 2**53+1 (parses to a number that is not safe).
      const since = g.pick(['1e308', '-1e308', '9007199254740993', '9007199254740992', '1.5', '-1', '1e400', '"5"', 'null', 'true', '[1]', '{}', '-0.0001']);
      return { what: `since ${since}`, data: `{"op":"subscribe","job":${JSON.stringify(g.chance(0.5) ? real() : unknown())},"since":${since}}`, expect: BAD };
    }
    case 7: {
      // since that is valid: -0 is 0, 9007199254740991 is larger than any seq (snapshot mode).
      const since = g.pick(['-0', '0', '1', '3', '9007199254740991', '2e0', '1E1']);
      return subscribeCase(model, `subscribe since ${since}`, g.chance(0.7) ? real() : unknown(), since);
    }
    case 8:
      return { what: 'wrong op type', data: JSON.stringify({ op: g.pick([1, null, true, ['ping'], { op: 'ping' }, 'Ping', 'ping ', '']), job: real() }), expect: BAD };
    case 9:
      return { what: 'unknown op', data: JSON.stringify({ op: g.pick(['publish', 'cancel', 'pong', 'subscribe\u0000', 'constructor', '__proto__']), job: real() }), expect: BAD };
    case 10:
      return { what: 'wrong job type', data: JSON.stringify({ op: g.pick(['subscribe', 'unsubscribe']), job: g.pick([1, null, true, [real()], { id: real() }, 1e308]) }), expect: BAD };
    case 11:
      return { what: 'invalid job id', data: JSON.stringify({ op: g.pick(['subscribe', 'unsubscribe']), job: g.pick(['', '**', ' *', '../etc', 'a b', 'é', 'x'.repeat(65), 'y'.repeat(g.pick([1000, 30_000])), `${real()}\n`]) }), expect: BAD };
    case 12:
      return { what: 'since on *', data: JSON.stringify({ op: 'subscribe', job: '*', since: g.int(10) }), expect: BAD };
    case 13:
      return { what: '__proto__ key', data: '{"__proto__":{"op":"ping"}}', expect: BAD };
    case 14:
      return { what: 'duplicate op key', data: '{"op":"ping","op":"subscribe"}', expect: BAD };
    case 15:
      return { what: 'ping', data: g.pick(['{"op":"ping"}', '{"op":"ping","job":5,"since":"x"}', ' {"op" : "ping"} ', '{"op":"subscribe","op":"ping"}']), expect: { kind: 'sync', sig: 'pong' } };
    case 16:
    case 17:
    case 18:
      return subscribeCase(model, 'subscribe real job', real());
    case 19:
      return subscribeCase(model, 'subscribe unknown job', unknown());
    case 20:
      return subscribeCase(model, 'subscribe *', '*');
    case 21:
    case 22:
      return unsubscribeCase(model, g.pick([real(), real(), '*', unknown()]));
    default:
      return { what: 'random bytes as text', data: JSON.stringify(g.string(40)).slice(1, -1), expect: BAD };
  }
}

/**
 * Sends the cases on one connection and checks the answers: exact counts for the
 * synchronous ones, and for subscribes at most one answer per request, the right kind,
 * and one for the last request of each job unless an unsubscribe of it came after.
 */
async function runBurst(client: WsClient, cases: Case[]): Promise<void> {
  const start = client.received.length;
  const sync = new Map<string, number>();
  const subscribeRequests = new Map<string, number>();
  const lastTouch = new Map<string, 'subscribe' | 'unsubscribe'>();
  const subscribeSig = new Map<string, string>();
  for (const c of cases) {
    client.ws.send(c.data, { binary: c.binary === true });
    if (c.expect.kind === 'sync') {
      sync.set(c.expect.sig, (sync.get(c.expect.sig) ?? 0) + 1);
      const m = /^unsubscribed:(.*)$/.exec(c.expect.sig);
      if (m !== null) lastTouch.set(m[1]!, 'unsubscribe');
    } else if (c.expect.kind === 'subscribe') {
      subscribeRequests.set(c.expect.job, (subscribeRequests.get(c.expect.job) ?? 0) + 1);
      subscribeSig.set(c.expect.job, c.expect.sig);
      lastTouch.set(c.expect.job, 'subscribe');
    }
  }
  const mustAnswer = [...lastTouch].filter(([, op]) => op === 'subscribe').map(([job]) => subscribeSig.get(job)!);
  const counts = (): Map<string, number> => {
    const out = new Map<string, number>();
    for (const m of client.received.slice(start)) {
      const sig = signature(m);
      if (sig !== null) out.set(sig, (out.get(sig) ?? 0) + 1);
    }
    return out;
  };
  const isDone = (): boolean => {
    const got = counts();
    return [...sync].every(([sig, n]) => (got.get(sig) ?? 0) >= n) && mustAnswer.every((sig) => (got.get(sig) ?? 0) >= 1);
  };
  await waitFor(() => isDone() || !client.isOpen, 'every answer of the burst', DEADLINE_MS).catch((err: Error) => {
    throw new Error(`${err.message}; expected ${JSON.stringify([...sync])} and ${JSON.stringify(mustAnswer.slice(0, 20))}; got ${JSON.stringify([...counts()])}`);
  });
  assert.ok(client.isOpen, `the connection stays open (closed with ${JSON.stringify(client.closeInfo)})`);
  // Everything the server sent for earlier messages has arrived once this pong has.
  // (Counted here, not with client.next(), whose queue still holds the burst's pongs.)
  const pongs = (sync.get('pong') ?? 0) + 1;
  client.send({ op: 'ping' });
  await waitFor(() => (counts().get('pong') ?? 0) >= pongs || !client.isOpen, 'the closing pong', DEADLINE_MS);
  const got = counts();
  sync.set('pong', pongs);
  for (const [sig, n] of got) {
    if (sync.has(sig)) {
      assert.equal(n, sync.get(sig), `exactly one ${sig} per request`);
      continue;
    }
    const m = /^(?:subscribed|error:job_not_found):(.*)$/.exec(sig);
    assert.ok(m !== null && subscribeSig.get(m[1]!) === sig, `an answer nobody asked for: ${sig}`);
    assert.ok(n <= subscribeRequests.get(m[1]!)!, `at most one ${sig} per subscribe`);
  }
  for (const m of client.received.slice(start)) {
    const kind = m.type === 'error' ? `error:${m.code}` : m.type;
    answers.set(kind, (answers.get(kind) ?? 0) + 1);
    assert.ok(['snapshot', 'event', 'position', 'subscribed', 'unsubscribed', 'error', 'pong'].includes(m.type), `unknown message type ${m.type}`);
  }
}


const mib = (n: number) => (n / 2 ** 20).toFixed(1);

/** A connection that must be closed by the server with `code`; the test fails if it never is (a hang). */
async function expectClose(t: TestContext, url: string, send: (client: WsClient) => void, code: number, what: string): Promise<void> {
  const client = await connectWs(t, url, { query: `?token=${TOKEN}` });
  await client.roundTrip();
  send(client);
  const closed = await client.waitClosed(DEADLINE_MS);
  assert.equal(closed.code, code, what);
  assert.ok(!client.received.some((m) => m.type === 'error' && m.code !== 'bad_message'), `${what}: no other error before the close`);
}

test('hostile WebSocket traffic: every bad request answered, the right closes, nothing leaks', { timeout: TEST_HANG_MS }, async (t) => {
  const { gc, how } = findGc();
  const startedAt = Date.now();
  // The rate limit would close these connections within their first burst (1008, tested in
  // ws-abuse.test.ts): here every message must get its answer.
  const server = await startTestServer(t, { maxMessageSize: MAX_MESSAGE_SIZE, token: TOKEN, maxMessagesPerSecond: UNLIMITED_RATE });
  const flood = await startTestServer(t, { maxSubscriptions: FLOOD_MAX_SUBSCRIPTIONS, maxMessagesPerSecond: UNLIMITED_RATE });
  const realJobs: string[] = [];
  for (let i = 0; i < 6; i++) realJobs.push(await createSyntheticJob(server));
  const floodJobs: string[] = [];
  for (let i = 0; i < FLOOD_MAX_SUBSCRIPTIONS + 8; i++) floodJobs.push(await createSyntheticJob(flood));
  // Warm up both servers (first connection, first subscribe) before the baseline.
  for (const s of [server, flood]) {
    const warm = await connectWs(t, s.url, { query: `?token=${TOKEN}` });
    await warm.subscribe(s === server ? realJobs[0]! : floodJobs[0]!);
    warm.ws.close();
    await warm.waitClosed();
  }
  await waitFor(() => server.hub.size === 0 && flood.hub.size === 0, 'the warm-up sessions to go');
  const fdBefore = await fdCounts();
  const heapBefore = heapAfterGc(gc);

  const g = new Gen(SEED);
  let messages = 0;
  const whats = new Map<string, number>();
  const count = (cases: Case[]) => {
    messages += cases.length;
    for (const c of cases) whats.set(c.what.replace(/\d+/g, 'N'), (whats.get(c.what.replace(/\d+/g, 'N')) ?? 0) + 1);
  };

  // Live events flow while the fuzz runs, so catch-ups race appends.
  let done = 0;
  let isAppending = true;
  const appendGen = new Gen(SEED + 1);
  const appender = (async () => {
    while (isAppending) {
      done++;
      await appendProgress(server, appendGen.pick(realJobs), done);
      await appendProgress(flood, appendGen.pick(floodJobs), done);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();

  // 1. Mixed rounds on three connections at once: two with the token, one without (no `*`).
  const clients = [
    { client: await connectWs(t, server.url, { query: `?token=${TOKEN}` }), model: { realJobs, mayWatchAll: true, maxSubscriptions: null, held: new Set<string>() } },
    { client: await connectWs(t, server.url, { query: `?token=${TOKEN}` }), model: { realJobs, mayWatchAll: true, maxSubscriptions: null, held: new Set<string>() } },
    { client: await connectWs(t, server.url), model: { realJobs, mayWatchAll: false, maxSubscriptions: null, held: new Set<string>() } },
  ];
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(
      clients.map(({ client, model }) => {
        const cases = Array.from({ length: BURST }, () => makeCase(g, model));
        count(cases);
        return runBurst(client, cases);
      }),
    );
  }

  // 2. Floods on a server with --max-subscriptions 16: thousands of subscribe/unsubscribe
  // of real jobs and `*` in one burst, mixed with bad messages, going past the limit.
  const floodClient = await connectWs(t, flood.url);
  const floodModel: Model = { realJobs: floodJobs, mayWatchAll: true, maxSubscriptions: FLOOD_MAX_SUBSCRIPTIONS, held: new Set() };
  let refusals = 0;
  for (let burst = 0; burst < 3; burst++) {
    const cases: Case[] = [];
    for (let i = 0; i < FLOOD; i++) {
      const r = g.next();
      const job = g.chance(0.08) ? '*' : g.pick(floodJobs);
      if (r < 0.6) cases.push(subscribeCase(floodModel, 'flood subscribe', job, g.chance(0.2) ? g.int(20) : undefined));
      else if (r < 0.9) cases.push(unsubscribeCase(floodModel, job));
      else if (r < 0.95) cases.push({ what: 'flood bad message', data: `{"op":"subscribe","job":${JSON.stringify(job)},"since":-1}`, expect: BAD });
      else cases.push({ what: 'flood ping', data: '{"op":"ping"}', expect: { kind: 'sync', sig: 'pong' } });
    }
    // The burst ends holding more than the limit asks for: the last ones are refused.
    for (const job of floodJobs) cases.push(subscribeCase(floodModel, 'flood subscribe to every job', job));
    refusals += cases.filter((c) => c.expect.kind === 'sync' && c.expect.sig.startsWith('error:too_many')).length;
    count(cases);
    await runBurst(floodClient, cases);
    const burstCases = [...floodModel.held].map((job) => unsubscribeCase(floodModel, job));
    count(burstCases);
    await runBurst(floodClient, burstCases);
  }
  assert.ok(refusals > 0, 'the floods went past --max-subscriptions');
  // A flood from many connections at once: each subscribes everything and leaves without a word.
  const many = await Promise.all(Array.from({ length: 20 }, () => connectWs(t, flood.url)));
  for (const c of many) for (let i = 0; i < 200; i++) c.send({ op: g.chance(0.7) ? 'subscribe' : 'unsubscribe', job: g.pick([...floodJobs, '*']) });
  messages += many.length * 200;
  for (const c of many) c.ws.terminate();

  // 3. Closes: frames over --max-message-size (1009) and text that is not UTF-8 (1007).
  let closes = 0;
  const oversize: Array<[string, () => string]> = [
    ['a ping padded one byte past the limit', () => JSON.stringify({ op: 'ping', pad: '' }).replace('""', `"${'x'.repeat(MAX_MESSAGE_SIZE - 13)}"`)],
    ['40k nested arrays', () => nested(40_000)],
    ['a subscribe with a 100 KiB job id', () => JSON.stringify({ op: 'subscribe', job: 'j'.repeat(100 * 1024) })],
    ['1 MiB of garbage', () => 'z'.repeat(2 ** 20)],
  ];
  for (const [what, make] of oversize) {
    const text = make();
    assert.ok(Buffer.byteLength(text) > MAX_MESSAGE_SIZE, what);
    await expectClose(t, server.url, (c) => c.send(text), 1009, what);
    closes++;
  }
  await expectClose(t, server.url, (c) => c.ws.send(Buffer.alloc(MAX_MESSAGE_SIZE + 1), { binary: true }), 1009, 'a binary frame over the limit');
  closes++;
  const notUtf8 = [
    Buffer.from([0xff]),
    Buffer.from([0xc0, 0xaf]), // overlong '/'
    Buffer.from('{"op":"ping","x":"\xed\xa0\x80"}', 'latin1'), // a UTF-16 surrogate in UTF-8
    Buffer.concat([Buffer.from('{"op":"subscribe","job":"'), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), Buffer.from('"}')]),
    Buffer.from([0xe2, 0x82]), // truncated sequence
  ];
  for (const bytes of notUtf8) {
    // uWS checks UTF-8 itself and drops the connection without a close code (README, "Engines").
    await expectClose(t, server.url, (c) => c.ws.send(bytes, { binary: false }), ON_UWS ? 1006 : 1007, `invalid UTF-8 ${bytes.toString('hex').slice(0, 16)}`);
    closes++;
  }
  messages += closes;

  // The fuzz connections leave (half of them politely).
  isAppending = false;
  await appender;
  for (const [i, { client }] of clients.entries()) i % 2 === 0 ? client.ws.close() : client.ws.terminate();
  floodClient.ws.close();
  await waitFor(() => server.hub.size === 0 && flood.hub.size === 0, 'the hubs to hold no session', DEADLINE_MS);

  // 4. The server still serves: /healthz answers and a normal client follows a job to its end.
  // Without keep-alive, so that no pooled socket counts against the baseline.
  const health = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    get(`${server.url}/healthz`, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
  assert.equal(health.status, 200);
  assert.deepEqual(JSON.parse(health.body), { ok: true });
  const normal = await connectWs(t, server.url);
  const id = await createSyntheticJob(server);
  assert.equal((await normal.subscribe(id)).type, 'subscribed');
  for (let d = 1; d <= 5; d++) await appendProgress(server, id, d);
  await finishSyntheticJob(server, id);
  const view = await normal.untilFinal(id, DEADLINE_MS);
  assert.equal(view.snapshot?.status, 'completed');
  assert.deepEqual([view.gaps, view.duplicates], [[], []]);
  normal.ws.close();
  await normal.waitClosed();
  await waitFor(() => server.hub.size === 0, 'the normal client to go', DEADLINE_MS);

  // 5. Nothing leaked. What the test's own clients recorded is let go first; then sockets, fds and heap must be back near the baseline.
  for (const c of [...clients.map((x) => x.client), floodClient, ...many, normal]) {
    c.received.length = c.receivedAt.length = 0;
    // WsClient keeps what next() was never asked for, and a seq per message: not the server's memory.
    const own = c as unknown as { queue: unknown[]; lastSeqAfter: unknown[] };
    own.queue.length = own.lastSeqAfter.length = 0;
  }
  for (const c of [...clients.map((x) => x.client), floodClient, ...many, normal]) c.tracker.views.clear();
  const deadline = Date.now() + DEADLINE_MS;
  let fdAfter = await fdCounts();
  while (fdAfter.sockets > fdBefore.sockets && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    fdAfter = await fdCounts();
  }
  const heapAfter = heapAfterGc(gc);
  const elapsed = Date.now() - startedAt;
  t.diagnostic(`seed ${SEED}: ${messages} messages (${ROUNDS} mixed rounds of ${BURST} on 3 connections, 3 floods of ${FLOOD}+, 20 connections x 200, ${closes} closing frames) in ${elapsed} ms`);
  t.diagnostic(`cases: ${JSON.stringify(Object.fromEntries([...whats].sort((a, b) => b[1] - a[1])))}`);
  t.diagnostic(`answers received: ${JSON.stringify(Object.fromEntries(answers))}`);
  t.diagnostic(`too_many_subscriptions expected and received: ${refusals}; progress events appended meanwhile: ${done * 2}`);
  t.diagnostic(`fds before/after: total ${fdBefore.total}/${fdAfter.total}, sockets ${fdBefore.sockets}/${fdAfter.sockets}`);
  t.diagnostic(`heap used before/after (gc: ${how}): ${mib(heapBefore.heapUsed)}/${mib(heapAfter.heapUsed)} MiB; array buffers ${mib(heapBefore.arrayBuffers)}/${mib(heapAfter.arrayBuffers)} MiB`);
  assert.ok(fdAfter.sockets <= fdBefore.sockets, `sockets back to the baseline: ${fdBefore.sockets} -> ${fdAfter.sockets}`);
  assert.ok(fdAfter.total <= fdBefore.total + 6, `open fds back near the baseline: ${fdBefore.total} -> ${fdAfter.total}`);
  const slack = gc === null ? 64 * 2 ** 20 : 8 * 2 ** 20;
  assert.ok(heapAfter.heapUsed - heapBefore.heapUsed < slack, `heap back near the baseline: ${mib(heapBefore.heapUsed)} -> ${mib(heapAfter.heapUsed)} MiB`);
  assert.ok(heapAfter.arrayBuffers - heapBefore.arrayBuffers < slack, 'Buffers back near the baseline');
});
