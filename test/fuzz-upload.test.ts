// Hostile uploads (SPEC 2.1, SPEC 7 "Bad input") against a real server over real TCP:
// several hundred bodies made from a seed (test/helpers/multipart-fuzz.ts): truncated
// at random offsets, wrong boundaries, huge part headers, thousands of parts, invalid
// UTF-8 and NUL in names, path traversal, duplicate fields, garbage, random mutations,
// chunked and Content-Length framing in random pieces, and clients that give up
// part-way. Every answer must be a SPEC code with its status and one the case allows.
// Only a client that cut the connection may get no answer, and only one that half-closed
// a body shorter than announced gets Node's own bare 400 (the HTTP parser answers before
// the route). After each case the spool holds the accepted jobs and nothing else; after
// all of them the store holds exactly those jobs, and open file descriptors and the heap
// are back near where they started.
//
// JOBCAST_FUZZ_SEED and JOBCAST_FUZZ_CASES replay or widen a run.

import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ERRORS, type ErrorCode } from '../server/errors.js';
import { cleanFilename } from '../server/http/filename.js';
import type { QueueStats, Snapshot } from '../server/protocol/types.js';
import { FUZZ_LIMITS, makeCase, type FuzzCase, type Outcome } from './helpers/multipart-fuzz.js';
import { chunk, rawGet, RawConnection, requestHead, type RawResponse } from './helpers/raw-http.js';
import { fdCounts, findGc, heapAfterGc } from './helpers/process-stats.js';
import { HANG_MS } from './helpers/patience.js';
import { ON_UWS, startTestServer } from './helpers/server.js';

const SEED = Number(process.env.JOBCAST_FUZZ_SEED ?? 0x5eed2024);
/** Cases sent one after the other, each checked on its own. */
const CASES = Number(process.env.JOBCAST_FUZZ_CASES ?? 800);
/** Then cases sent LANES at a time, to mix cleanups and acceptances; checked as a whole. */
const CONCURRENT_CASES = Math.round(CASES / 4);
const LANES = 8;
/** A server that neither answers nor closes within this is hung: the case fails. */
const ANSWER_DEADLINE_MS = HANG_MS;

interface Sent {
  outcome: Outcome | 'closed without an answer';
  response: RawResponse | null;
}

/** Sends one case as its plan says; resolves once the connection is closed on both sides. */
async function sendCase(port: number, c: FuzzCase): Promise<Sent> {
  const conn = await RawConnection.open(port);
  const { framing, pieces, stopAt, declaredLength } = c.send;
  let isAnswered = false;
  void conn.response.then(() => (isAnswered = true));
  await conn.write(
    requestHead('/jobs', {
      'content-type': c.contentType,
      ...(framing === 'chunked' ? { 'transfer-encoding': 'chunked' } : { 'content-length': declaredLength ?? c.body.length }),
    }),
  );
  let sentBytes = 0;
  let stopped: 'cut' | 'half-close' | null = null;
  for (let offset = 0, i = 0; offset < c.body.length && !isAnswered; i++) {
    let piece = c.body.subarray(offset, pieces === null ? undefined : offset + pieces[i % pieces.length]!);
    if (stopAt !== undefined && sentBytes + piece.length >= stopAt.bytes) piece = piece.subarray(0, stopAt.bytes - sentBytes);
    if (piece.length > 0 && !(await conn.write(framing === 'chunked' ? chunk(piece) : piece))) break;
    sentBytes += piece.length;
    offset += piece.length;
    if (stopAt !== undefined && sentBytes >= stopAt.bytes) {
      stopped = stopAt.how;
      break;
    }
  }
  if (stopAt !== undefined && stopped === null && sentBytes >= stopAt.bytes) stopped = stopAt.how;
  if (stopped === null && framing === 'chunked' && !isAnswered) await conn.write('0\r\n\r\n');
  if (stopped === 'cut' && !isAnswered) conn.cut();
  if (stopped === 'half-close' && !isAnswered) conn.end();

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer and no close within ${ANSWER_DEADLINE_MS} ms`)), ANSWER_DEADLINE_MS);
  });
  try {
    const response = await Promise.race([conn.response, deadline]);
    conn.cut(); // done with this connection: closing it is the client's part
    await Promise.race([conn.closed, deadline]);
    if (response !== null) return { outcome: outcomeOf(response), response };
    // uWS closes a connection as soon as its client half-closes it (README, "Engines"):
    // there, a half-closed short body ends like a cut one.
    if (stopped === 'cut' || (stopped === 'half-close' && ON_UWS)) return { outcome: 'cut', response };
    return { outcome: 'closed without an answer', response };
  } finally {
    clearTimeout(timer);
  }
}

/** 202, or the SPEC code of an error answer; throws for anything else. */
function outcomeOf(response: RawResponse): Outcome {
  if (response.status === 202) return 202;
  const code = response.json?.error?.code as ErrorCode | undefined;
  assert.ok(code !== undefined && code in ERRORS, `an error answer in the SPEC shape, got ${response.status} ${response.body.toString('utf8').slice(0, 200)}`);
  assert.equal(response.status, ERRORS[code].status, `${code} is answered with its status`);
  assert.equal(typeof response.json.error.message, 'string');
  return code as Outcome;
}

/** Uploads the server has refused so far, from `jobcast_uploads_refused_total` on /metrics. */
async function refusedUploads(port: number): Promise<number> {
  const text = (await rawGet(port, '/metrics')).body.toString('utf8');
  let total = 0;
  for (const match of text.matchAll(/^jobcast_uploads_refused_total\{[^}]*\} (\d+)$/gm)) total += Number(match[1]);
  return total;
}


/** No job waits or runs (GET /queue). Raw connections that close at once, so descriptor counts stay exact. */
async function isIdle(port: number): Promise<boolean> {
  const stats = (await rawGet(port, '/queue')).json as QueueStats;
  return stats.queued + stats.running === 0;
}

/** Every job id the server lists (GET /jobs, every page), sorted. */
async function storedJobIds(port: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = (await rawGet(port, `/jobs?limit=500${cursor === null ? '' : `&cursor=${cursor}`}`)).json as { jobs: Snapshot[]; next: string | null };
    ids.push(...page.jobs.map((job) => job.id));
    cursor = page.next;
  } while (cursor !== null);
  return ids.sort();
}

/** Polls `check` until it returns true; fails with `what` past the deadline (a hang). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = HANG_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`still not true after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test(`fuzzed multipart uploads: SPEC answers only, no crash, nothing left behind (seed ${SEED})`, { timeout: 900_000 }, async (t) => {
  const server = await startTestServer(t, { ...FUZZ_LIMITS });
  const spoolRoot = join(server.dir, 'spool');
  // Ids only: the test's own memory must not grow with the jobs it measures.
  const accepted = new Set<string>();
  const jobsInSpool = async (): Promise<string[]> => (await readdir(spoolRoot)).sort();
  const acceptedIds = (): string[] => [...accepted].sort();
  const { gc, how } = findGc();
  let sentCount = 0;
  /** Every request ends as exactly one accepted job or one refusal, counted after its cleanup. */
  const isEveryUploadSettled = async (): Promise<boolean> => accepted.size + (await refusedUploads(server.port)) === sentCount;

  /** Sends case `index`; `isAlone`: no other case is in flight, so the spool can be compared. */
  const runCase = async (index: number, isAlone: boolean): Promise<Outcome | string> => {
    const c = makeCase(SEED, index);
    const what = `case ${index} (${c.kind}, ${c.body.length} bytes, ${JSON.stringify({ ...c.send, pieces: c.send.pieces?.slice(0, 3) })}; replay with JOBCAST_FUZZ_SEED=${SEED})`;
    const { outcome, response } = await sendCase(server.port, c).catch((error: Error) => assert.fail(`${what}: ${error.message}`));
    sentCount += 1;
    const expected = ON_UWS && c.send.stopAt?.how === 'half-close' ? new Set<Outcome>([...c.expected, 'cut']) : c.expected;
    assert.ok(expected.has(outcome as Outcome), `${what}: got ${String(outcome)} ${response?.body.toString('utf8').slice(0, 300) ?? ''}, expected one of ${[...expected].join(', ')}`);
    if (outcome === 202) {
      const snapshot = response!.json as Snapshot;
      assert.equal(response!.headers.location, `/jobs/${snapshot.id}`, what);
      accepted.add(snapshot.id);
      assert.ok(snapshot.files.length >= 1 && snapshot.files.length <= FUZZ_LIMITS.maxFiles, what);
      for (const file of snapshot.files) {
        assert.doesNotMatch(file.name, /[\u0000-\u001f\u007f]/, `${what}: no C0 control or DEL in ${JSON.stringify(file.name)}`);
        assert.ok(Buffer.byteLength(file.name) <= 255, `${what}: name of at most 255 bytes`);
        assert.ok(file.size <= FUZZ_LIMITS.maxFileSize, what);
      }
      if (c.files !== undefined) {
        assert.deepEqual(
          snapshot.files.map(({ name, size }) => ({ name, size })),
          c.files.map(({ name, size }) => ({ name: cleanFilename(name), size })),
          `${what}: names kept as data, sizes counted`,
        );
      }
      // Only <spool>/<id>/in-<n> (and the job's options) exist for it: no client name became a path.
      const entries = (await readdir(join(spoolRoot, snapshot.id))).filter((name) => !name.startsWith('out-'));
      assert.deepEqual(entries.sort(), [...snapshot.files.map((f) => `in-${f.index}`), 'options.json'].sort(), what);
    }
    if (!isAlone) return outcome;
    if (outcome === 'cut' || outcome === 'malformed_request') {
      // The server learns of the cut on its own time; the refusal is counted once it has cleaned up.
      await until(`${what}: the server settled the upload`, isEveryUploadSettled);
    } else {
      // An answer is sent after the cleanup and the count.
      assert.ok(await isEveryUploadSettled(), `${what}: the request is counted once`);
    }
    assert.deepEqual(await jobsInSpool(), acceptedIds(), `${what}: the spool holds the accepted jobs only`);
    return outcome;
  };

  // Warm-up, so that lazily loaded code and the first worker thread count in the baseline.
  for (let i = 0; i < 20; i++) await runCase(CASES + CONCURRENT_CASES + i, true);
  await until('warm-up jobs finished', () => isIdle(server.port));
  const fdBefore = await fdCounts(spoolRoot);
  const heapBefore = heapAfterGc(gc);

  const startedAt = performance.now();
  const tally = new Map<string, number>();
  const count = (outcome: Outcome | string): void => void tally.set(String(outcome), (tally.get(String(outcome)) ?? 0) + 1);
  for (let index = 0; index < CASES; index++) count(await runCase(index, true));
  let next = CASES;
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (next < CASES + CONCURRENT_CASES) count(await runCase(next++, false));
    }),
  );
  await until('every concurrent upload settled', isEveryUploadSettled);
  const elapsedMs = Math.round(performance.now() - startedAt);

  assert.equal((await rawGet(server.port, '/healthz')).status, 200, 'the server still answers');
  await until('accepted jobs finished', () => isIdle(server.port));
  assert.deepEqual(await storedJobIds(server.port), acceptedIds(), 'the store holds exactly the accepted jobs: no partial job');
  assert.deepEqual(await jobsInSpool(), acceptedIds());

  // Sockets of both sides are closed asynchronously after the last case.
  await until('sockets back to the baseline', async () => (await fdCounts(spoolRoot)).sockets <= fdBefore.sockets);
  const fdAfter = await fdCounts(spoolRoot);
  const heapAfter = heapAfterGc(gc);
  t.diagnostic(`seed ${SEED}: ${CASES + CONCURRENT_CASES} fuzz cases (${CASES} one by one, ${CONCURRENT_CASES} ${LANES} at a time; +20 warm-up) in ${elapsedMs} ms; ${accepted.size} jobs accepted`);
  t.diagnostic(`outcomes: ${[...tally].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  t.diagnostic(`fds before/after: total ${fdBefore.total}/${fdAfter.total}, sockets ${fdBefore.sockets}/${fdAfter.sockets}, in spool ${fdBefore.under}/${fdAfter.under}`);
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
  t.diagnostic(`heap used before/after (gc: ${how}): ${mib(heapBefore.heapUsed)}/${mib(heapAfter.heapUsed)} MiB; array buffers ${mib(heapBefore.arrayBuffers)}/${mib(heapAfter.arrayBuffers)} MiB`);
  assert.equal(fdAfter.under, 0, 'no spool file is left open');
  // A second worker thread started during the run brings its own event loop descriptors.
  assert.ok(fdAfter.total <= fdBefore.total + 6, `open fds back near the baseline: ${fdBefore.total} -> ${fdAfter.total}`);
  // Without a collector to call, garbage may still be waiting: a much looser bound.
  const slack = gc === null ? 64 * 2 ** 20 : 8 * 2 ** 20;
  assert.ok(heapAfter.heapUsed - heapBefore.heapUsed < slack, `heap back near the baseline: ${mib(heapBefore.heapUsed)} -> ${mib(heapAfter.heapUsed)} MiB`);
  assert.ok(heapAfter.arrayBuffers - heapBefore.arrayBuffers < slack, 'Buffers back near the baseline');
});
