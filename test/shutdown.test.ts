// Graceful shutdown of the server process on SIGTERM and SIGINT (SPEC 7, README
// "Graceful stop"): uploads are refused with 503 shutting_down, the running file gets
// --shutdown-grace to finish (or is stopped when the grace runs out), the job goes back
// to the queue with job.requeued (reason "shutdown"), WebSocket subscribers are closed
// with 1001, and the process exits with code 0. A restart on the same store finishes
// the job without running a finished file again.

import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import type { JobEvent } from '../server/protocol/types.js';
import { createJob, getJob } from './helpers/http.js';
import { HANG_MS, TEST_HANG_MS } from './helpers/patience.js';
import { FIXTURE_PROCESSORS, spawnServer, tempDir, type ChildServer } from './helpers/server.js';
import { connectWs, eventLog, Tracker, waitFor, type Message, type WsClient } from './helpers/ws-client.js';

const KIB = 1024;
const MIB = 1024 * KIB;
/**
 * A grace far beyond anything the test waits for: a held file that the test releases
 * always finishes within it, however slow the machine. (What a grace that runs out does
 * is the second test's subject, with a file that cannot finish.)
 */
const LONG_GRACE_MS = 600_000;

/** The JSON log lines a child server writes after it listens. */
class ServerLog {
  readonly entries: Array<{ msg?: string; [key: string]: unknown }> = [];

  constructor(server: ChildServer) {
    createInterface({ input: server.child.stdout! }).on('line', (line) => {
      if (line.startsWith('{')) this.entries.push(JSON.parse(line) as { msg?: string });
    });
  }

  has(msg: string): boolean {
    return this.entries.some((e) => e.msg === msg);
  }
}

type UploadOutcome = { status: number; code: string | null } | { error: string };

/**
 * A POST /jobs written by hand, so the test decides when the body ends: the head and
 * the first bytes of the file go out at once, the rest at `finish()`.
 */
class ManualUpload {
  readonly outcome: Promise<UploadOutcome>;
  private readonly req: ClientRequest;
  private readonly tail: Buffer;

  constructor(baseUrl: string, fields: Record<string, string>, fileBytes: number) {
    const boundary = `----jobcast-shutdown-${Math.random().toString(16).slice(2)}`;
    const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
    const head = Buffer.from(
      `${parts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="late.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const file = Buffer.alloc(fileBytes, 'x');
    const end = Buffer.from(`\r\n--${boundary}--\r\n`);
    const half = Math.floor(fileBytes / 2);
    this.tail = Buffer.concat([file.subarray(half), end]);
    // agent: false: a connection of its own, never a pooled one the server already closed.
    this.req = request(`${baseUrl}/jobs`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + fileBytes + end.length },
    });
    this.outcome = outcomeOf(this.req);
    this.req.write(Buffer.concat([head, file.subarray(0, half)]));
  }

  finish(): void {
    this.req.end(this.tail);
  }
}

/** Resolves with the status and error code of the answer, or the network error's code. */
function outcomeOf(req: ClientRequest): Promise<UploadOutcome> {
  return new Promise((resolve) => {
    req.once('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.once('end', () => {
        let code: string | null = null;
        try {
          code = (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? null;
        } catch {
          // Not JSON: the status alone tells the story.
        }
        resolve({ status: res.statusCode!, code });
      });
      res.once('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
  });
}

/** A whole small upload on a fresh connection. */
function freshUpload(baseUrl: string): Promise<UploadOutcome> {
  const upload = new ManualUpload(baseUrl, {}, 16);
  upload.finish();
  return upload.outcome;
}

/** The status a WebSocket upgrade request to /ws is answered with (101 when it is upgraded). */
function upgradeStatus(baseUrl: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}/ws`, {
      agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves once `condition()` resolves true, checking every few ms; rejects after `timeoutMs` (a hang). */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = HANG_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** `promise`, or a rejection naming `what` after `timeoutMs` (a hang). */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = HANG_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const isEvent = (m: Message): m is JobEvent => m.type === 'event';
const eventsOf = (client: WsClient, job: string) => client.received.filter(isEvent).filter((e) => e.job === job);

/** How many times the recording processor ran each of `names`. */
async function runsOf(recordPath: string, names: string[]): Promise<number[]> {
  const runs = (await readFile(recordPath, 'utf8')).trim().split('\n');
  return names.map((name) => runs.filter((r) => r === name).length);
}

interface Setup {
  dir: string;
  args: string[];
  recordPath: string;
  spoolDir: string;
}

async function setup(t: TestContext, graceMs: number): Promise<Setup> {
  const dir = await tempDir(t, 'jobcast-shutdown-');
  const spoolDir = join(dir, 'spool');
  const args = [
    '--store', `sqlite:${join(dir, 'jobcast.db')}`,
    '--spool-dir', spoolDir,
    '--processor-dir', FIXTURE_PROCESSORS,
    '--processor', 'recording',
    '--progress-interval', '20ms',
    '--workers', '2',
    '--concurrency', '1',
    '--shutdown-grace', `${graceMs}ms`,
  ];
  return { dir, args, recordPath: join(dir, 'record.txt'), spoolDir };
}

/**
 * Resolves once file `index` of `job` is running and has reported progress, in the
 * client's view (from the subscribe's snapshot or a live event: a held file reports no
 * more once it holds, so the progress may well predate the subscription).
 */
function midFile(client: WsClient, job: string, index: number): Promise<void> {
  const file = () => client.tracker.view(job).snapshot?.files[index];
  return waitFor(() => file()?.status === 'running' && file()!.done > 0, `progress of file ${index}`);
}

/** A second life on the same store: resume the subscriber, wait for the jobs to end, compare with GET. */
async function restartAndFinish(t: TestContext, s: Setup, tracker: Tracker, jobs: string[]): Promise<ChildServer> {
  const server = await spawnServer(t, s.args);
  const client = await connectWs(t, server.url, { tracker });
  for (const job of jobs) {
    const answer = await client.subscribe(job, tracker.view(job).lastSeq);
    assert.equal(answer.type === 'subscribed' && answer.mode, 'resume', `resume of ${job} after the restart`);
  }
  for (const job of jobs) {
    const view = await client.untilFinal(job);
    await client.roundTrip();
    assert.deepEqual(view.gaps, [], `no seq gap in the view of ${job}`);
    assert.deepEqual(view.duplicates, [], `no event twice in the view of ${job}`);
    assert.deepEqual(view.snapshot, await getJob(server.url, job), `the resumed view of ${job} converged to GET /jobs/{id}`);
  }
  return server;
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal}: uploads refused, the running file finishes, the rest is requeued, sockets get 1001, exit 0`, { timeout: TEST_HANG_MS }, async (t) => {
    const s = await setup(t, LONG_GRACE_MS);
    let server = await spawnServer(t, s.args);
    const log = new ServerLog(server);
    // Every file stops half-way until `release` exists: file 0 of A stays mid-run while
    // the test checks what the server does during the grace.
    const release = join(s.dir, 'release');
    const options = JSON.stringify({ recordPath: s.recordPath, msPerMiB: 1000, holdUntil: release });
    // File 0 of A takes about 1 s once released; files 1 and 2 a few ms. B waits behind A (concurrency 1).
    const aFiles = [
      { name: 'a0.bin', content: new Uint8Array(MIB) },
      { name: 'a1.bin', content: new Uint8Array(20 * KIB) },
      { name: 'a2.bin', content: new Uint8Array(20 * KIB) },
    ];
    const a = await createJob(server.url, aFiles, { options });
    const b = await createJob(server.url, [{ name: 'b0.bin', content: new Uint8Array(20 * KIB) }], { options });
    const tracker = new Tracker();
    const client = await connectWs(t, server.url, { tracker });
    for (const job of [a.id, b.id]) assert.equal((await client.subscribe(job)).type, 'subscribed');

    // An upload whose body is half sent when the signal comes: the server is already reading it.
    const inFlight = new ManualUpload(server.url, { options }, 256 * KIB);
    const spoolEntries = () => readdir(s.spoolDir);
    await until(async () => (await spoolEntries()).length === 3, 'the in-flight upload to reach the spool');

    await midFile(client, a.id, 0);
    const signalAt = Date.now();
    server.child.kill(signal);
    await waitFor(() => log.has('shutting down'), 'the server to start shutting down');

    // (a) During the grace the server still listens: a new upload on a new connection
    // gets 503 shutting_down, so do /readyz and a new WebSocket, and reads are served.
    assert.deepEqual(await freshUpload(server.url), { status: 503, code: 'shutting_down' });
    const ready = await fetch(`${server.url}/readyz`);
    assert.deepEqual([ready.status, ((await ready.json()) as { error: { code: string } }).error.code], [503, 'shutting_down']);
    assert.equal(await upgradeStatus(server.url), 503, 'a new WebSocket is refused before the upgrade');
    assert.equal((await fetch(`${server.url}/jobs/${a.id}`)).status, 200, 'reads are served');
    // The upload that was mid-body when the signal came ends now: 503, and its files are gone.
    inFlight.finish();
    assert.deepEqual(await within(inFlight.outcome, 'the answer to the in-flight upload'), { status: 503, code: 'shutting_down' });
    assert.deepEqual((await spoolEntries()).sort(), [a.id, b.id].sort(), 'the refused upload left nothing in the spool');
    await writeFile(release, '');

    // (b) The running file finishes within the grace; the rest of A is requeued; B does not start.
    const completed = (await client.next(
      (m) => isEvent(m) && m.job === a.id && m.name === 'file.completed',
      HANG_MS,
      'file.completed of the running file',
    )) as Extract<JobEvent, { name: 'file.completed' }>;
    assert.equal(completed.data.file, 0);
    const requeued = (await client.next((m) => isEvent(m) && m.job === a.id && m.name === 'job.requeued', HANG_MS, 'job.requeued')) as Extract<
      JobEvent,
      { name: 'job.requeued' }
    >;
    assert.equal(requeued.data.reason, 'shutdown');
    assert.equal(tracker.view(a.id).snapshot?.status, 'queued');
    assert.deepEqual(
      tracker.view(a.id).snapshot?.files.map((f) => f.status),
      ['done', 'pending', 'pending'],
    );

    // (c) Subscribers are closed with 1001.
    const closed = await client.waitClosed();
    assert.equal(closed.code, 1001);

    // (d) The process exits with code 0 once the running file has finished: it does not wait out the grace.
    const code = await within(server.exited, 'the exit');
    const exitMs = Date.now() - signalAt;
    assert.equal(code, 0);
    assert.ok(log.has('stopped'), 'the server logged that it stopped');
    assert.equal(tracker.view(b.id).snapshot?.status, 'queued', 'no job started during the shutdown');
    t.diagnostic(`${signal}: file finished ${completed.ts - signalAt} ms and process exited ${exitMs} ms after the signal (grace ${LONG_GRACE_MS} ms)`);

    // A restart on the same store finishes both jobs; no finished file runs again.
    server = await restartAndFinish(t, s, tracker, [a.id, b.id]);
    const aEvents = await eventLog(t, server.url, a.id);
    assert.deepEqual(aEvents.map((e) => e.seq), aEvents.map((_, i) => i + 1), 'seq is gapless from 1');
    assert.deepEqual(
      aEvents.filter((e) => e.name === 'job.requeued').map((e) => e.data.reason),
      ['shutdown'],
    );
    assert.deepEqual(
      aEvents.filter((e) => e.name === 'file.completed').map((e) => e.data.file),
      [0, 1, 2],
    );
    const firstCompleted = aEvents.findIndex((e) => e.name === 'file.completed');
    assert.ok(firstCompleted < aEvents.findIndex((e) => e.name === 'job.requeued'), 'file 0 completed before the job was requeued');
    assert.deepEqual(await runsOf(s.recordPath, ['a0.bin', 'a1.bin', 'a2.bin', 'b0.bin']), [1, 1, 1, 1], 'every file ran once');
    assert.equal(await server.kill('SIGTERM'), 0);
  });
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} with a short grace: the long file is stopped and requeued, exit 0`, { timeout: TEST_HANG_MS }, async (t) => {
    const graceMs = 200;
    const s = await setup(t, graceMs);
    let server = await spawnServer(t, s.args);
    const log = new ServerLog(server);
    // File 0 holds half-way until `release` exists, which comes only before the restart:
    // it cannot finish within the grace, however slow the machine.
    const release = join(s.dir, 'release');
    const options = JSON.stringify({ recordPath: s.recordPath, msPerMiB: 1000, holdUntil: release });
    const files = [
      { name: 'long.bin', content: new Uint8Array(1.5 * MIB) },
      { name: 'short.bin', content: new Uint8Array(20 * KIB) },
    ];
    const job = await createJob(server.url, files, { options });
    const tracker = new Tracker();
    const client = await connectWs(t, server.url, { tracker });
    assert.equal((await client.subscribe(job.id)).type, 'subscribed');

    await midFile(client, job.id, 0);
    const signalAt = Date.now();
    server.child.kill(signal);
    const requeued = (await client.next((m) => isEvent(m) && m.job === job.id && m.name === 'job.requeued', HANG_MS, 'job.requeued')) as Extract<
      JobEvent,
      { name: 'job.requeued' }
    >;
    assert.equal(requeued.data.reason, 'shutdown');
    assert.ok(requeued.ts - signalAt >= graceMs, 'the file was given the whole grace');
    assert.equal(eventsOf(client, job.id).filter((e) => e.name === 'file.completed').length, 0, 'the long file did not complete');
    assert.deepEqual(
      tracker.view(job.id).snapshot?.files.map((f) => f.status),
      ['pending', 'pending'],
      'the stopped file is pending again',
    );
    assert.equal((await client.waitClosed()).code, 1001);
    assert.equal(await within(server.exited, 'the exit'), 0);
    const exitMs = Date.now() - signalAt;
    assert.ok(log.has('stopped'));
    t.diagnostic(`${signal}: requeued ${requeued.ts - signalAt} ms and exited ${exitMs} ms after the signal (grace ${graceMs} ms)`);

    await writeFile(release, '');
    server = await restartAndFinish(t, s, tracker, [job.id]);
    const events = await eventLog(t, server.url, job.id);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seq is gapless from 1');
    assert.deepEqual(events.filter((e) => e.name === 'job.requeued').map((e) => e.data.reason), ['shutdown']);
    assert.deepEqual(events.filter((e) => e.name === 'file.started').map((e) => e.data.file), [0, 0, 1], 'the stopped file started again');
    assert.deepEqual(events.filter((e) => e.name === 'file.completed').map((e) => e.data.file), [0, 1]);
    // The stopped file ran twice (cut once), the other once.
    assert.deepEqual(await runsOf(s.recordPath, ['long.bin', 'short.bin']), [2, 1]);
    assert.equal(await server.kill('SIGTERM'), 0);
  });
}
