// kill -9 of the server at many moments chosen by a seeded RNG, across the life of
// jobs: mid-upload, while jobs wait in the queue, at the boundary between two files,
// in the middle of a file, and as the last file of a job completes. After each kill
// the server restarts on the same store. At the end every accepted job is completed,
// its seq is gapless, no finished file ran again, the spool holds exactly the accepted
// jobs, and a WebSocket subscriber that resumed with `since` after every restart holds
// the same snapshot as GET /jobs/{id} (SPEC 1, 3.3, 7).
//
// Set JOBCAST_CRASH_SEED to replay another sequence of kill points.

import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { JobEvent, Snapshot } from '../server/protocol/types.js';
import { createJob, getJob } from './helpers/http.js';
import { FIXTURE_PROCESSORS, spawnServer, startTestServer, tempDir, type ChildServer } from './helpers/server.js';
import { HANG_MS } from './helpers/patience.js';
import { connectWs, eventLog, Tracker, type Message, type WsClient } from './helpers/ws-client.js';

const SEED = Number(process.env.JOBCAST_CRASH_SEED ?? 0x5eed_c0de);
const PHASES = ['upload', 'queued', 'between files', 'mid-file', 'final transition'] as const;
type Phase = (typeof PHASES)[number];
/** Kill points per phase: 8 x 5 = 40 kills, 12 to 45 s on a 2-core machine. */
const KILLS_PER_PHASE = 8;
const KIB = 1024;
/** The recording processor sleeps this long per MiB: a 100 KiB file takes about 100 ms. */
const MS_PER_MIB = 1000;

/** mulberry32: a small seeded PRNG, so a failing sequence of kill points can be replayed. */
function createRng(seed: number) {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const shuffle = <T>(items: T[]): T[] => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = int(0, i);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  };
  return { next, int, shuffle };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `condition()` resolves true, checking every few ms; rejects after `timeoutMs` (a hang). */
async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = HANG_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * A multipart POST /jobs written chunk by chunk on a connection of its own, so that the
 * server can be killed with the body half sent. `outcome` never rejects: it resolves
 * with the answer or with the network error (the reset the kill causes).
 */
class SlowUpload {
  readonly outcome: Promise<{ status: number } | { error: string }>;
  private readonly req: ClientRequest;
  private readonly chunks: Buffer[] = [];
  private sent = 0;

  constructor(baseUrl: string, fields: Record<string, string>, fileBytes: number, chunkBytes: number) {
    const boundary = `----jobcast-crash-${fileBytes}`;
    const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
    const body = Buffer.concat([
      Buffer.from(`${parts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\n\r\n`),
      Buffer.alloc(fileBytes, 'u'),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    for (let at = 0; at < body.length; at += chunkBytes) this.chunks.push(body.subarray(at, at + chunkBytes));
    this.req = request(`${baseUrl}/jobs`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length },
    });
    this.outcome = new Promise((resolve) => {
      this.req.once('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
      this.req.once('response', (res) => {
        res.resume();
        resolve({ status: res.statusCode! });
      });
    });
  }

  /** Chunks not sent yet; the last one is never sent by `sendNext`, so the body stays unfinished. */
  get unsent(): number {
    return this.chunks.length - this.sent;
  }

  /** Sends the next chunk; resolves once the socket took it (or failed). */
  sendNext(): Promise<void> {
    if (this.unsent <= 1) return Promise.reject(new Error('only the last chunk is left: the body would be complete'));
    const chunk = this.chunks[this.sent++]!;
    return new Promise((resolve) => this.req.write(chunk, () => resolve()));
  }
}

interface AcceptedJob {
  id: string;
  /** File names, unique across the run, as the recording processor writes them. */
  names: string[];
}

interface Paths {
  store: string;
  spoolDir: string;
  recordPath: string;
}

type Rng = ReturnType<typeof createRng>;

/**
 * One test run: the child server of the moment, a WebSocket subscriber that resumes
 * every unfinished job with `since` after each restart (its Tracker survives the
 * connections), and the jobs that were accepted.
 */
class CrashRig {
  readonly accepted = new Map<string, AcceptedJob>();
  readonly tracker = new Tracker();
  readonly tried = new Map<Phase, number>(PHASES.map((p) => [p, 0]));
  restartMs = 0;
  server!: ChildServer;
  client!: WsClient;
  private jobCount = 0;
  private readonly args: string[];
  readonly fields: Record<string, string>;

  constructor(
    private readonly t: TestContext,
    readonly paths: Paths,
    private readonly rng: Rng,
  ) {
    this.args = ['--store', paths.store, '--spool-dir', paths.spoolDir, '--processor-dir', FIXTURE_PROCESSORS];
    this.args.push('--progress-interval', '20ms', '--workers', '2', '--concurrency', '1');
    this.fields = { processor: 'recording', options: JSON.stringify({ recordPath: paths.recordPath, msPerMiB: MS_PER_MIB }) };
  }

  async start(): Promise<void> {
    this.server = await spawnServer(this.t, this.args);
    this.client = await connectWs(this.t, this.server.url, { tracker: this.tracker });
  }

  /** Uploads a job of 2 or 3 files (the last one short), expects 202 and subscribes to it. */
  async acceptJob(): Promise<void> {
    const n = this.jobCount++;
    const sizes = Array.from({ length: this.rng.int(2, 3) }, () => this.rng.int(80, 200) * KIB);
    sizes[sizes.length - 1] = this.rng.int(2, 12) * KIB;
    const files = sizes.map((size, i) => ({ name: `job${n}-file${i}.bin`, content: new Uint8Array(size) }));
    const job = await createJob(this.server.url, files, this.fields);
    this.accepted.set(job.id, { id: job.id, names: files.map((f) => f.name) });
    assert.equal((await this.client.subscribe(job.id)).type, 'subscribed');
  }

  unfinished(): string[] {
    return [...this.accepted.keys()].filter((id) => !this.tracker.view(id).isFinal);
  }

  async ensureUnfinished(count: number): Promise<void> {
    while (this.unfinished().length < count) await this.acceptJob();
  }

  /** Makes sure a job none of whose files has started waits: every moment of a job's life is still ahead. */
  async ensureFreshJob(): Promise<void> {
    const isFresh = (id: string) => this.tracker.view(id).snapshot?.files.every((f) => f.status === 'pending') === true;
    if (!this.unfinished().some(isFresh)) await this.acceptJob();
  }

  lastIndexOf(job: string): number {
    return this.accepted.get(job)!.names.length - 1;
  }

  /** The next event matching `predicate` that arrives from now on (earlier ones are stale). */
  nextEvent(predicate: (e: JobEvent) => boolean, what: string): Promise<Message> {
    const client = this.client;
    const from = client.received.length;
    return client.next((m) => m.type === 'event' && predicate(m) && client.received.lastIndexOf(m) >= from, HANG_MS, what);
  }

  async queued(): Promise<number> {
    return ((await (await fetch(`${this.server.url}/queue`)).json()) as { queued: number }).queued;
  }

  /** kill -9, restart on the same store, check the spool, resume the subscriber. */
  async crashAndRestart(phase: Phase): Promise<void> {
    this.tried.set(phase, this.tried.get(phase)! + 1);
    assert.equal(await this.server.kill('SIGKILL'), 'SIGKILL');
    await this.client.closed;
    const restartAt = Date.now();
    this.server = await spawnServer(this.t, this.args);
    this.restartMs += Date.now() - restartAt;
    await this.checkSpoolAndStore(this.server.url, `after the restart that followed a kill at '${phase}'`);
    await this.resume(this.server.url);
  }

  /** A new connection subscribes to every unfinished job with the seq its view has. */
  async resume(url: string): Promise<void> {
    this.client = await connectWs(this.t, url, { tracker: this.tracker });
    for (const id of this.unfinished()) {
      const answer = await this.client.subscribe(id, this.tracker.view(id).lastSeq);
      // Every event the subscriber saw was committed first: the log still has them all.
      assert.equal(answer.type === 'subscribed' && answer.mode, 'resume', `resume of ${id}: ${JSON.stringify(answer)}`);
    }
  }

  /** The store holds exactly the accepted jobs, and the spool exactly their folders. */
  async checkSpoolAndStore(url: string, when: string): Promise<void> {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await fetch(`${url}/jobs?limit=500${cursor === null ? '' : `&cursor=${cursor}`}`);
      const page = (await res.json()) as { jobs: Snapshot[]; next: string | null };
      ids.push(...page.jobs.map((s) => s.id));
      cursor = page.next;
    } while (cursor !== null);
    const expected = [...this.accepted.keys()].sort();
    assert.deepEqual(ids.sort(), expected, `the store holds exactly the accepted jobs ${when}`);
    assert.deepEqual((await readdir(this.paths.spoolDir)).sort(), expected, `the spool holds exactly the accepted jobs' folders ${when}`);
  }

  /** True once an upload that is no accepted job has bytes of its file on the spool. */
  async hasPartialUpload(): Promise<boolean> {
    for (const entry of await readdir(this.paths.spoolDir)) {
      if (this.accepted.has(entry)) continue;
      const size = await stat(join(this.paths.spoolDir, entry, 'in-0')).then((s) => s.size, () => 0);
      if (size > 0) return true;
    }
    return false;
  }
}

/** How to reach each phase, then kill. Random choices come from `rng`, so a seed replays them. */
function phaseRunners(rig: CrashRig, rng: Rng): Record<Phase, () => Promise<void>> {
  return {
    // The body half sent: the server has made the job's folder and written part of the file.
    upload: async () => {
      await rig.ensureUnfinished(rng.int(0, 1));
      const upload = new SlowUpload(rig.server.url, rig.fields, rng.int(256, 768) * KIB, 16 * KIB);
      await until(async () => (await rig.hasPartialUpload()) || (await upload.sendNext(), false), 'the upload to reach the spool');
      for (let extra = rng.int(0, 6); extra > 0 && upload.unsent > 1; extra--) await upload.sendNext();
      await rig.crashAndRestart('upload');
      // The client sees the reset; the restart has already checked that nothing is left.
      const outcome = await upload.outcome;
      assert.ok('error' in outcome, `the cut upload got no answer, only a reset: ${JSON.stringify(outcome)}`);
    },
    // Several jobs wait behind the running one (concurrency 1); the moment is random.
    queued: async () => {
      await rig.ensureUnfinished(rng.int(3, 4));
      await until(async () => (await rig.queued()) >= 2 || (await rig.acceptJob(), false), 'two queued jobs');
      await sleep(rng.int(0, 150));
      await rig.crashAndRestart('queued');
    },
    // A file that is not the job's last has just completed: the next one is about to start.
    'between files': async () => {
      await rig.ensureFreshJob();
      await rig.nextEvent((e) => e.name === 'file.completed' && e.data.file < rig.lastIndexOf(e.job), 'a file that is not the last to complete');
      await rig.crashAndRestart('between files');
    },
    // A file has reported progress and is not done; the moment within it is random. (Any
    // fraction below 1: a bound like "below half" could be missed for every file by a
    // machine slow enough, and the wait would never end. A kill that lands just after the
    // file ended is another kill point the audit accounts for.)
    'mid-file': async () => {
      await rig.ensureFreshJob();
      await rig.nextEvent((e) => e.name === 'file.progress' && e.data.done > 0 && e.data.fraction < 1, 'progress in the middle of a file');
      await sleep(rng.int(0, 40));
      await rig.crashAndRestart('mid-file');
    },
    // The last file (2..12 ms long) has just completed, or has just started and is about to.
    'final transition': async () => {
      await rig.ensureFreshJob();
      if (rng.next() < 0.5) {
        await rig.nextEvent((e) => e.name === 'file.completed' && e.data.file === rig.lastIndexOf(e.job), 'the last file to complete');
      } else {
        await rig.nextEvent((e) => e.name === 'file.started' && e.data.file === rig.lastIndexOf(e.job), 'the last file to start');
        await sleep(rng.int(0, 12));
      }
      await rig.crashAndRestart('final transition');
    },
  };
}

interface JobAudit {
  /** Per file: runs cut by a kill, and how many of those had reported progress. */
  cuts: Array<{ started: number; withProgress: number }>;
  /** Where the job was at each kill that found it running (the event before its restart requeue). */
  statesAtKill: string[];
}

/**
 * Reads one completed job's log: seq gapless from 1, every file completed once in
 * order and never started again after that, every requeue a restart. A run cut by a
 * crash is a file.started with no end before the next job.requeued.
 */
function auditJob(id: string, events: JobEvent[], fileCount: number): JobAudit {
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), `seq of ${id} is gapless from 1`);
  const completed = events.filter((e) => e.name === 'file.completed').map((e) => e.data.file);
  assert.deepEqual(completed, Array.from({ length: fileCount }, (_, i) => i), `every file of ${id} completed once, in order`);
  const cuts = Array.from({ length: fileCount }, () => ({ started: 0, withProgress: 0 }));
  const statesAtKill: string[] = [];
  const done = new Set<number>();
  let running: { file: number; hasProgress: boolean } | null = null;
  let previous: JobEvent | null = null;
  for (const e of events) {
    if (e.name === 'file.started') {
      assert.ok(!done.has(e.data.file), `file ${e.data.file} of ${id} started again after it was done`);
      running = { file: e.data.file, hasProgress: false };
    } else if (e.name === 'file.progress' && running !== null) {
      running.hasProgress = true;
    } else if (e.name === 'file.completed') {
      done.add(e.data.file);
      running = null;
    } else if (e.name === 'job.requeued') {
      assert.equal(e.data.reason, 'restart', `requeue of ${id}`);
      statesAtKill.push(stateBefore(previous!, fileCount - 1));
      if (running !== null) {
        cuts[running.file]!.started++;
        if (running.hasProgress) cuts[running.file]!.withProgress++;
      }
      running = null;
    }
    previous = e;
  }
  return { cuts, statesAtKill };
}

/** Where the job was when the server died: named after the last event before the restart requeued it. */
function stateBefore(event: JobEvent, lastFile: number): string {
  switch (event.name) {
    case 'job.started':
      return 'job started, no file yet';
    case 'file.started':
      return 'file started, no progress yet';
    case 'file.progress':
      return 'mid-file';
    case 'file.completed':
      return event.data.file === lastFile ? 'last file done, job not yet' : 'between files';
    default:
      return event.name;
  }
}

const countBy = (items: string[]) => [...new Set(items)].map((item) => `${item} ${items.filter((i) => i === item).length}`).join(', ');

test(`kill -9 at ${KILLS_PER_PHASE * PHASES.length} moments across uploads, queue, files and final transitions loses nothing`, { timeout: 900_000 }, async (t) => {
  const startedAt = Date.now();
  const rng = createRng(SEED);
  t.diagnostic(`seed ${SEED} (JOBCAST_CRASH_SEED replays it)`);
  const dir = await tempDir(t, 'jobcast-crash-many-');
  const paths = { store: `sqlite:${join(dir, 'jobcast.db')}`, spoolDir: join(dir, 'spool'), recordPath: join(dir, 'record.txt') };
  const rig = new CrashRig(t, paths, rng);
  await rig.start();
  const runners = phaseRunners(rig, rng);
  const plan = rng.shuffle(PHASES.flatMap((phase) => Array<Phase>(KILLS_PER_PHASE).fill(phase)));
  for (const phase of plan) await runners[phase]();
  const killsMs = Date.now() - startedAt;

  // The last life runs in-process, to read the store once every job is done.
  assert.equal(await rig.server.kill('SIGKILL'), 'SIGKILL');
  await rig.client.closed;
  const last = await startTestServer(t, { store: paths.store, spoolDir: paths.spoolDir, processorDir: FIXTURE_PROCESSORS, concurrency: 1 });
  await rig.checkSpoolAndStore(last.url, 'in the last life');
  await rig.resume(last.url);

  const statesAtKill: string[] = [];
  const cutsByName = new Map<string, JobAudit['cuts'][number]>();
  for (const { id, names } of rig.accepted.values()) {
    const view = await rig.client.untilFinal(id);
    const final = await getJob(last.url, id);
    assert.equal(final.status, 'completed', `job ${id}`);
    assert.deepEqual(final.files.map((f) => f.status), names.map(() => 'done'), `every file of ${id} is done`);
    assert.deepEqual(view.gaps, [], `no seq gap in the resumed view of ${id}`);
    assert.deepEqual(view.duplicates, [], `no event twice in the resumed view of ${id}`);
    assert.deepEqual(view.snapshot, final, `the resumed view of ${id} converged to GET /jobs/{id}`);

    const events = await eventLog(t, last.url, id);
    assert.equal(events.at(-1)!.seq, final.seq);
    const audit = auditJob(id, events, names.length);
    statesAtKill.push(...audit.statesAtKill);
    names.forEach((name, i) => cutsByName.set(name, audit.cuts[i]!));
  }

  // A file ran once, plus once per kill that cut it after its processor had begun: at
  // least once per cut run that had reported progress, at most once per cut run.
  const recorded = (await readFile(paths.recordPath, 'utf8')).trim().split('\n');
  assert.deepEqual(recorded.filter((name) => !cutsByName.has(name)), [], 'only accepted jobs ran');
  for (const [name, { started, withProgress }] of cutsByName) {
    const runs = recorded.filter((r) => r === name).length;
    assert.ok(runs >= 1 + withProgress && runs <= 1 + started, `${name} ran ${runs} times; cut ${started} times, ${withProgress} of them after progress`);
  }

  const kills = [...rig.tried.values()].reduce((a, b) => a + b, 0);
  assert.ok(kills >= 20);
  const cutRuns = [...cutsByName.values()].reduce((sum, c) => sum + c.started, 0);
  t.diagnostic(`${kills} kill points: ${[...rig.tried].map(([phase, n]) => `${phase} ${n}`).join(', ')}`);
  t.diagnostic(`the running job at the kills that found one: ${countBy(statesAtKill)}`);
  t.diagnostic(`${rig.accepted.size} jobs, ${cutRuns} file runs cut by a kill, ${recorded.length} processor runs`);
  t.diagnostic(`kills and restarts ${killsMs} ms (restarts ${rig.restartMs} ms in all); the whole test ${Date.now() - startedAt} ms`);
});
