// Resume with `since` (SPEC 3.3 subscribe rules, SPEC 7 "no lost transitions"): the
// modes and seqs of `subscribed`, and a job followed through many forced disconnects.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { JobEvent } from '../server/protocol/types.js';
import { createJob, getJob } from './helpers/http.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';
import { appendProgress, createSyntheticJob, finishSyntheticJob } from './helpers/synthetic-job.js';
import { checkExactlyOnce, connectWs, Tracker, waitFor, type Message, type WsClient } from './helpers/ws-client.js';
import { HANG_MS, TEST_HANG_MS } from './helpers/patience.js';

/** Sends subscribe and returns every message up to and including `subscribed` (or an error). */
async function subscribeAndCollect(client: WsClient, job: string, since?: number): Promise<Message[]> {
  const start = client.received.length;
  const answer = await client.subscribe(job, since);
  return client.received.slice(start, client.received.indexOf(answer) + 1);
}

const seqsOf = (messages: Message[]) => messages.filter((m): m is JobEvent => m.type === 'event').map((m) => m.seq);

test('since: beyond the job gives a snapshot, older than the log a snapshot, covered a resume, equal to seq nothing', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { logSize: 5 });
  const id = await createSyntheticJob(server);
  for (let done = 1; done <= 9; done++) await appendProgress(server, id, done * 1000);
  const seq = 12;
  const expected = await getJob(server.url, id);
  assert.equal(expected.seq, seq);
  const client = await connectWs(t, server.url);

  // since > the job's seq (a store restored from an older copy): snapshot mode.
  const beyond = await subscribeAndCollect(client, id, 20);
  assert.deepEqual(beyond, [
    { type: 'snapshot', job: expected },
    { type: 'subscribed', job: id, seq, mode: 'snapshot' },
  ]);
  // The log keeps seqs 8..12: since 6 needs seq 7, which is gone.
  const older = await subscribeAndCollect(client, id, 6);
  assert.deepEqual(older, [
    { type: 'snapshot', job: expected },
    { type: 'subscribed', job: id, seq, mode: 'snapshot' },
  ]);
  const older0 = await subscribeAndCollect(client, id, 0);
  assert.equal(older0[0]!.type, 'snapshot');
  assert.deepEqual(older0[1], { type: 'subscribed', job: id, seq, mode: 'snapshot' });
  // since 7: exactly the events 8..12, then resume.
  const covered = await subscribeAndCollect(client, id, 7);
  assert.deepEqual(seqsOf(covered), [8, 9, 10, 11, 12]);
  assert.equal(covered.length, 6);
  assert.deepEqual(covered.at(-1), { type: 'subscribed', job: id, seq, mode: 'resume' });
  // since == seq: nothing to send.
  const current = await subscribeAndCollect(client, id, seq);
  assert.deepEqual(current, [{ type: 'subscribed', job: id, seq, mode: 'resume' }]);
  // Without since: snapshot mode.
  const plain = await subscribeAndCollect(client, id);
  assert.deepEqual(plain, [{ type: 'snapshot', job: expected }, { type: 'subscribed', job: id, seq, mode: 'snapshot' }]);

  // The subscription is live once: the next event arrives once, with the next seq.
  await appendProgress(server, id, 10_000);
  const live = await client.nextOf('event', id);
  assert.equal(live.seq, seq + 1);
  await client.roundTrip();
  assert.deepEqual(seqsOf(client.received.slice(client.received.indexOf(live))), [seq + 1], 'one subscription, one delivery');

  // A young job whose whole log is kept: since 0 replays it from job.queued.
  const young = await createSyntheticJob(server);
  const replay = await subscribeAndCollect(client, young, 0);
  assert.deepEqual(seqsOf(replay), [1, 2, 3]);
  assert.deepEqual(replay.at(-1), { type: 'subscribed', job: young, seq: 3, mode: 'resume' });
  assert.deepEqual(client.tracker.view(young).snapshot, await getJob(server.url, young));

  // A finished job: since its final seq resumes with nothing; an earlier one gets the rest.
  const final = await finishSyntheticJob(server, young);
  await client.untilFinal(young);
  const fresh = await connectWs(t, server.url);
  assert.deepEqual(await subscribeAndCollect(fresh, young, final.seq), [{ type: 'subscribed', job: young, seq: final.seq, mode: 'resume' }]);
  assert.deepEqual(seqsOf(await subscribeAndCollect(fresh, young, 2)), [3, 4, 5]);
});

/** Deterministic pseudo-random numbers (mulberry32), so a failing cut sequence can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

type CutStyle = 'during-catch-up' | 'after-messages' | 'after-time';
interface Cut {
  style: CutStyle;
  atSeq: number;
}

/**
 * Follows `jobId` to its end through a series of connections, each cut (terminate or close)
 * at a moment drawn from `pick`, each resuming with `since` = the last seq it folded.
 */
async function followWithCuts(t: TestContext, baseUrl: string, jobId: string, tracker: Tracker, observer: WsClient, pick: (n: number) => number): Promise<Cut[]> {
  const view = tracker.view(jobId);
  const observed = observer.tracker.view(jobId);
  const cuts: Cut[] = [];
  for (let round = 0; !view.isFinal; round++) {
    assert.ok(round < 500, 'the job ends');
    const client = await connectWs(t, baseUrl, { tracker });
    const since = view.lastSeq;
    const style = (['during-catch-up', 'after-messages', 'after-messages', 'after-time'] as const)[pick(4)]!;
    if (style === 'during-catch-up') {
      client.send({ op: 'subscribe', job: jobId, since });
    } else {
      const subscribed = await client.subscribe(jobId, since);
      assert.equal(subscribed.type === 'subscribed' && subscribed.mode, 'resume', `round ${round}: since ${since} is in the log`);
      assert.equal(subscribed.type === 'subscribed' && subscribed.seq, client.lastSeqAt(subscribed), `round ${round}: subscribed.seq is the last seq delivered`);
      if (view.isFinal) break;
      if (style === 'after-messages') {
        const k = 1 + pick(6);
        let seen = 0;
        await client.next(() => ++seen >= k || view.isFinal, HANG_MS, `${k} messages`);
      } else {
        await new Promise((resolve) => setTimeout(resolve, pick(40)));
      }
    }
    if (view.isFinal) break;
    // Half the cuts are abrupt (no close frame), half polite; both lose what was in flight.
    if (pick(2) === 0) client.ws.terminate();
    else client.ws.close(pick(2) === 0 ? 1000 : 4000);
    await client.waitClosed();
    cuts.push({ style, atSeq: view.lastSeq });
    // Sometimes stay away until a few events have happened, so the resume has something to replay.
    const missed = pick(4);
    if (missed > 0 && !observed.isFinal) {
      const target = view.lastSeq + missed;
      await observer.next(() => observed.lastSeq >= target || observed.isFinal, HANG_MS, `seq ${target}`);
    }
  }
  return cuts;
}

test('forced disconnects at many cut points: resuming with since delivers every seq exactly once', { timeout: 900_000 }, async (t) => {
  const server = await startTestServer(t, { progressIntervalMs: 10 });
  const seed = Number(process.env.JOBCAST_CUT_SEED ?? 0x5eed);
  const random = mulberry32(seed);
  const pick = (n: number) => Math.floor(random() * n);
  const files = [120, 60, 150, 1, 100].map((k, i) => ({ name: `part-${i}.bin`, content: new Uint8Array(k * 1024) }));
  let total = 0;
  // One job gives about 40 cuts; a machine slowed down enough to give fewer runs more jobs
  // until there are 24 (no cap: a machine that gave none at all would hang the test, and fail it).
  for (let jobs = 1; total < 24; jobs++) {
    const job = await createJob(server.url, files, { processor: 'delay', options: JSON.stringify({ msPerMiB: 6000 }) });
    // A subscriber that never drops: it shows how far the job is, and must see the same stream.
    const observer = await connectWs(t, server.url);
    await observer.subscribe(job.id, 0);
    const tracker = new Tracker();
    const cuts = await followWithCuts(t, server.url, job.id, tracker, observer, pick);
    total += cuts.length;

    const final = await getJob(server.url, job.id);
    assert.equal(final.status, 'completed');
    const view = tracker.view(job.id);
    const observed = await observer.untilFinal(job.id);
    const counts = cuts.reduce<Record<string, number>>((acc, c) => ((acc[c.style] = (acc[c.style] ?? 0) + 1), acc), {});
    t.diagnostic(`seed ${seed}, job ${jobs}: ${cuts.length} cut points over ${final.seq} events (${JSON.stringify(counts)}), at seqs ${cuts.map((c) => c.atSeq).join(',')}`);
    t.diagnostic(`job ${jobs}: events delivered across ${cuts.length + 1} connections: ${view.eventSeqs.length}; observer: ${observed.eventSeqs.length}`);
    if (cuts.length >= 10) assert.ok(new Set(cuts.map((c) => c.atSeq)).size >= cuts.length / 2, 'cuts spread over the job');
    assert.equal(checkExactlyOnce(view.eventSeqs, final.seq), null);
    assert.deepEqual(view.gaps, []);
    assert.deepEqual(view.duplicates, []);
    assert.equal(view.snapshots, 0, 'every resume was served from the log');
    assert.deepEqual(view.snapshot, final);
    assert.deepEqual(observed.snapshot, final);
    assert.equal(checkExactlyOnce(observed.eventSeqs, final.seq), null);
  }
  t.diagnostic(`cut points in all: ${total}`);
});

test('closed with 1001 at shutdown: the client resumes with since on the next server and loses nothing', { timeout: TEST_HANG_MS }, async (t) => {
  // The middle file holds (`gated`) until the test releases it after the shutdown: the
  // shutdown always finds it running, however slow the machine.
  const first = await startTestServer(t, { shutdownGraceMs: 50, processorDir: FIXTURE_PROCESSORS });
  const files = [20, 200, 20].map((k, i) => ({ name: `s${i}.bin`, content: new Uint8Array(k * 1024) }));
  const job = await createJob(first.url, files, { processor: 'gated', options: JSON.stringify({ hold: [1] }) });
  const client = await connectWs(t, first.url);
  await client.subscribe(job.id, 0);
  // Shut down while the long middle file runs: it is requeued and continues on the next server.
  // On the view: file.started may have come in the replay, before `subscribed`.
  await waitFor(() => client.tracker.view(job.id).snapshot?.files[1]!.status === 'running', 'file 1 started');
  const closing = first.close();
  const closed = await client.waitClosed();
  await closing;
  assert.equal(closed.code, 1001);
  const view = client.tracker.view(job.id);
  assert.equal(view.snapshot!.status, 'queued', 'the requeue reached the client before the close');
  const requeuedAt = view.lastSeq;

  await writeFile(join(first.dir, 'release'), '');
  const second = await startTestServer(t, { spoolDir: first.config.spoolDir, processorDir: FIXTURE_PROCESSORS });
  const again = await connectWs(t, second.url, { tracker: client.tracker });
  const subscribed = await again.subscribe(job.id, view.lastSeq);
  assert.equal(subscribed.type === 'subscribed' && subscribed.mode, 'resume');
  await again.untilFinal(job.id);
  const final = await getJob(second.url, job.id);
  assert.equal(final.status, 'completed');
  assert.deepEqual(view.snapshot, final);
  assert.equal(checkExactlyOnce(view.eventSeqs, final.seq), null);
  const names = client.received.concat(again.received).filter((m): m is JobEvent => m.type === 'event').map((m) => m.name);
  assert.ok(names.includes('job.requeued'));
  t.diagnostic(`${view.eventSeqs.length} events over two servers, requeued at seq ${requeuedAt} of ${final.seq}`);
});

test('a resumed subscription to a queued job learns where it stands now (positions are not replayed)', { timeout: TEST_HANG_MS }, async (t) => {
  const server = await startTestServer(t, { concurrency: 1 });
  // An hour: they end only when the test cancels them.
  const long = { processor: 'delay', options: '{"minMs": 3600000}' };
  const blocker = await createJob(server.url, [{ name: 'b', content: 'b' }], long);
  const ahead = await createJob(server.url, [{ name: 'a', content: 'a' }], long);
  const job = await createJob(server.url, [{ name: 'j', content: 'j' }], { processor: 'delay', options: '{"minMs": 20}' });
  const first = await connectWs(t, server.url);
  await first.subscribe(job.id);
  const view = first.tracker.view(job.id);
  assert.equal(view.snapshot!.queuePosition, 2);
  first.ws.terminate();
  await first.waitClosed();
  // The queue moves while the client is away: its position message goes out (a dashboard
  // sees it) but not to the client.
  const dashboard = await connectWs(t, server.url);
  await dashboard.subscribe('*');
  await fetch(`${server.url}/jobs/${ahead.id}/cancel`, { method: 'POST' });
  await dashboard.next((m) => m.type === 'position' && m.job === job.id && m.position === 1, HANG_MS, 'the new position');
  assert.equal((await getJob(server.url, job.id)).queuePosition, 1);

  const again = await connectWs(t, server.url, { tracker: first.tracker });
  const subscribed = await again.subscribe(job.id, view.lastSeq);
  assert.equal(subscribed.type === 'subscribed' && subscribed.mode, 'resume');
  await again.roundTrip();
  assert.deepEqual(view.snapshot, await getJob(server.url, job.id), 'the resumed view equals the server snapshot');
  assert.equal(view.snapshot!.queuePosition, 1);
  // Resuming a job that is not queued sends no position.
  const running = await connectWs(t, server.url);
  await running.subscribe(blocker.id, 1);
  await running.roundTrip();
  assert.deepEqual(running.received.filter((m) => m.type === 'position'), []);

  await fetch(`${server.url}/jobs/${blocker.id}/cancel`, { method: 'POST' });
  await again.untilFinal(job.id);
  assert.deepEqual(view.snapshot, await getJob(server.url, job.id));
  assert.deepEqual(view.gaps, []);
});
