// The Store contract, run against the memory and SQLite stores, plus what only a file
// can show: reopening, a kill -9 in the middle of appends, and the on-disk invariants.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { foldEvents } from '../server/protocol/reducer.js';
import type { JobEvent, JobStatus, NewEvent, Snapshot } from '../server/protocol/types.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { openStore } from '../server/store/open-store.js';
import { openSqliteStore, type SqliteStoreOptions } from '../server/store/sqlite-store.js';
import type { Store } from '../server/store/store.js';

type Queued = Extract<NewEvent, { name: 'job.queued' }>;
type OpenStore = (t: TestContext, logSize: number) => Promise<Store>;

let clock = 1_700_000_000_000;
const tick = (): number => ++clock;

function queued(files = 3, size = 1000): Queued {
  const list = Array.from({ length: files }, (_, index) => ({ index, name: `f${index}.bin`, size, type: 'application/octet-stream' }));
  return { name: 'job.queued', ts: tick(), data: { processor: 'sha256', label: 'batch', failFast: false, files: list, position: 1 } };
}
const ev = {
  started: (): NewEvent => ({ name: 'job.started', ts: tick(), data: {} }),
  fileStarted: (file: number): NewEvent => ({ name: 'file.started', ts: tick(), data: { file } }),
  progress: (file: number, done: number, total = 1000): NewEvent => ({
    name: 'file.progress',
    ts: tick(),
    data: { file, done, total, fraction: done / total, rate: 5000, etaMs: 20, jobEtaMs: null },
  }),
  completed: (file: number): NewEvent => ({ name: 'file.completed', ts: tick(), data: { file, durationMs: 12, result: { sha256: 'ab' }, output: false } }),
  fileFailed: (file: number): NewEvent => ({
    name: 'file.failed',
    ts: tick(),
    data: { file, durationMs: 3, error: { code: 'processor_error', message: 'boom' } },
  }),
  requeued: (): NewEvent => ({ name: 'job.requeued', ts: tick(), data: { reason: 'shutdown', position: 1 } }),
  jobCompleted: (): NewEvent => ({ name: 'job.completed', ts: tick(), data: { durationMs: 100 } }),
  jobFailed: (): NewEvent => ({ name: 'job.failed', ts: tick(), data: { durationMs: 100, error: { code: 'files_failed', message: '1 file failed' } } }),
  jobCancelled: (): NewEvent => ({ name: 'job.cancelled', ts: tick(), data: { durationMs: 100 } }),
};

/** A realistic run of a 3-file job after job.queued: progress, a failure, a requeue, the end. */
function realisticRun(progressPerFile = 12, end: () => NewEvent = ev.jobFailed): NewEvent[] {
  const run: NewEvent[] = [ev.started(), ev.fileStarted(0)];
  for (let i = 1; i <= progressPerFile; i++) run.push(ev.progress(0, (i * 1000) / (progressPerFile + 1)));
  run.push(ev.completed(0), ev.fileStarted(1), ev.progress(1, 300), ev.fileFailed(1), ev.fileStarted(2), ev.progress(2, 500));
  run.push(ev.requeued(), ev.started(), ev.fileStarted(2));
  for (let i = 1; i <= progressPerFile; i++) run.push(ev.progress(2, (i * 1000) / (progressPerFile + 1)));
  run.push(ev.completed(2), end());
  return run;
}

/** Creates a job and appends `run`, checking gapless seqs and the fold at every step; returns every stored event. */
async function play(store: Store, id: string, run: NewEvent[], first: Queued = queued()): Promise<JobEvent[]> {
  const created = await store.createJob(id, first);
  assert.equal(created.event.seq, 1);
  const events = [created.event];
  for (const event of run) {
    const appended = await store.append(id, event);
    assert.equal(appended.event.seq, events.length + 1, 'seq is the last seq + 1');
    assert.deepEqual([appended.event.name, appended.event.ts, appended.event.data], [event.name, event.ts, event.data]);
    events.push(appended.event);
    assert.deepEqual(appended.snapshot, foldEvents(null, events));
  }
  return events;
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'jobcast-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function openSqlite(t: TestContext, path: string, options: SqliteStoreOptions): Promise<Store> {
  const store = await openSqliteStore(path, options);
  t.after(() => store.close());
  return store;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => (error as { code?: string }).code === code);
}

function contract(name: string, open: OpenStore): void {
  describe(`${name} store contract`, () => {
    test('numbers events 1..n without gaps and the snapshot is the fold of every event', async (t) => {
      const store = await open(t, 1000);
      const endings = { failed: ev.jobFailed, completed: ev.jobCompleted, cancelled: ev.jobCancelled } as const;
      for (const [status, end] of Object.entries(endings)) {
        const events = await play(store, `job-${status}`, realisticRun(12, end));
        const snapshot = await store.getSnapshot(`job-${status}`);
        assert.deepEqual(snapshot, foldEvents(null, events));
        assert.equal(snapshot?.status, status);
        assert.deepEqual(await store.eventsSince(`job-${status}`, 0), events);
      }
      const running = await play(store, 'job-running', realisticRun(5).slice(0, -2));
      assert.deepEqual(await store.getSnapshot('job-running'), foldEvents(null, running));
      assert.equal(await store.getSnapshot('nope'), null);
    });

    test('eventsSince answers at every boundary of a trimmed log', async (t) => {
      const store = await open(t, 5);
      await store.createJob('short', queued());
      const short = [...(await store.eventsSince('short', 0))!];
      assert.equal(short.length, 1);
      const events = await play(store, 'job-b', [ev.started(), ev.fileStarted(0), ...[1, 2, 3, 4, 5, 6, 7, 8].map((d) => ev.progress(0, d * 100)), ev.completed(0)]);
      const seq = events.length; // 12; the log keeps 8..12
      assert.equal(seq, 12);
      assert.deepEqual(await store.eventsSince('job-b', seq), []);
      assert.equal(await store.eventsSince('job-b', seq + 1), null, 'since > seq: a snapshot instead');
      assert.deepEqual(await store.eventsSince('job-b', seq - 1), events.slice(seq - 1));
      assert.deepEqual(await store.eventsSince('job-b', 9), events.slice(9));
      assert.deepEqual(await store.eventsSince('job-b', 7), events.slice(7), 'the oldest kept event is since + 1');
      assert.equal(await store.eventsSince('job-b', 6), null, 'older than the log');
      assert.equal(await store.eventsSince('job-b', 0), null);
      assert.equal(await store.eventsSince('job-b', -1), null);
      assert.equal(await store.eventsSince('job-b', 2.5), null);
      assert.equal(await store.eventsSince('unknown', 0), null);
      assert.deepEqual(await store.getSnapshot('job-b'), foldEvents(null, events));
    });

    for (const logSize of [1, 5, 1000]) {
      test(`the snapshot stays the fold of every event with logSize ${logSize}`, async (t) => {
        const store = await open(t, logSize);
        const run = [...realisticRun(130), ...Array.from({ length: 7 }, (_, i) => ev.progress(2, i))];
        const events = await play(store, 'long', run);
        assert.deepEqual(await store.getSnapshot('long'), foldEvents(null, events));
        const kept = await store.eventsSince('long', Math.max(0, events.length - logSize));
        assert.deepEqual(kept, events.slice(-logSize));
      });
    }

    test('rejects appends to unknown jobs, a second job.queued and a duplicate id', async (t) => {
      const store = await open(t, 10);
      await rejectsWith(store.append('ghost', ev.started()), 'job_not_found');
      await store.createJob('dup', queued());
      await assert.rejects(store.createJob('dup', queued()));
      await assert.rejects(store.append('dup', queued() as NewEvent), TypeError);
      assert.equal((await store.getSnapshot('dup'))?.seq, 1, 'failed calls leave the job alone');
      assert.equal((await store.append('dup', ev.started())).event.seq, 2);
    });

    test('appends to one job resolve in the order they were called', async (t) => {
      const store = await open(t, 1000);
      await store.createJob('order', queued());
      const resolved: number[] = [];
      const calls = Array.from({ length: 50 }, (_, i) => store.append('order', ev.progress(0, i)).then((a) => resolved.push(a.event.seq)));
      await Promise.all(calls);
      assert.deepEqual(resolved, Array.from({ length: 50 }, (_, i) => i + 2));
    });

    test('lists newest first across pages, with and without a status filter', async (t) => {
      const store = await open(t, 10);
      const ids = Array.from({ length: 7 }, (_, i) => `list-${i}`);
      for (const id of ids) await store.createJob(id, queued(1));
      for (const id of [ids[1]!, ids[3]!, ids[4]!]) await store.append(id, ev.started());
      await store.append(ids[4]!, ev.jobCancelled());
      const newestFirst = [...ids].reverse();
      assert.deepEqual(await pageIds(store, 3), [newestFirst.slice(0, 3), newestFirst.slice(3, 6), newestFirst.slice(6)]);
      assert.deepEqual(await pageIds(store, 7), [newestFirst], 'a full last page has next: null');
      assert.deepEqual(await pageIds(store, 500), [newestFirst]);
      assert.deepEqual(await pageIds(store, 2, 'queued'), [['list-6', 'list-5'], ['list-2', 'list-0']]);
      assert.deepEqual(await pageIds(store, 1, 'running'), [['list-3'], ['list-1']]);
      assert.deepEqual(await pageIds(store, 5, 'completed'), [[]]);
      const page = await store.list({ limit: 2, status: 'cancelled' });
      assert.deepEqual(page.jobs, [await store.getSnapshot('list-4')]);
      for (const cursor of ['', 'abc', '0', '-1', '1.5', ' 1', '01', '1e3', '99999999999999999999', 'MTA=']) {
        await rejectsWith(store.list({ limit: 2, cursor }), 'invalid_query');
      }
      for (const limit of [0, 501, 1.5, Number.NaN]) await rejectsWith(store.list({ limit }), 'invalid_query');
      await rejectsWith(store.list({ limit: 2, status: 'sleeping' as JobStatus }), 'invalid_query');
    });

    test('counts jobs by status and lists ids in creation order', async (t) => {
      const store = await open(t, 10);
      assert.deepEqual(await store.countByStatus(), { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 });
      for (const id of ['c0', 'c1', 'c2', 'c3']) await store.createJob(id, queued(1));
      await store.append('c2', ev.started());
      await store.append('c0', ev.started());
      await store.append('c3', ev.started());
      await store.append('c3', ev.jobCompleted());
      assert.deepEqual(await store.countByStatus(), { queued: 1, running: 2, completed: 1, failed: 0, cancelled: 0 });
      assert.deepEqual(await store.idsByStatus(['running', 'queued']), ['c0', 'c1', 'c2']);
      assert.deepEqual(await store.idsByStatus(['completed']), ['c3']);
      assert.deepEqual(await store.idsByStatus([]), []);
    });

    test('finishedBefore returns finished jobs older than a time, oldest first, at most limit', async (t) => {
      const store = await open(t, 10);
      for (const id of ['old-a', 'old-b', 'new', 'running']) await store.createJob(id, queued(1));
      await store.append('running', ev.started());
      await store.append('old-b', { name: 'job.cancelled', ts: 1000, data: { durationMs: 1 } });
      await store.append('old-a', { name: 'job.completed', ts: 2000, data: { durationMs: 1 } });
      await store.append('new', { name: 'job.failed', ts: 5000, data: { durationMs: 1, error: { code: 'x', message: 'y' } } });
      assert.deepEqual(await store.finishedBefore(3000, 10), ['old-b', 'old-a']);
      assert.deepEqual(await store.finishedBefore(3000, 1), ['old-b']);
      assert.deepEqual(await store.finishedBefore(2000, 10), ['old-b']);
      assert.deepEqual(await store.finishedBefore(Number.MAX_SAFE_INTEGER, 10), ['old-b', 'old-a', 'new']);
    });

    test('recentlyFinished returns the ids of the jobs that finished last, latest first, at most limit', async (t) => {
      const store = await open(t, 10);
      for (const id of ['a', 'b', 'c', 'd', 'running']) await store.createJob(id, queued(1));
      await store.append('running', ev.started());
      await store.append('b', { name: 'job.completed', ts: 3000, data: { durationMs: 1 } });
      await store.append('a', { name: 'job.cancelled', ts: 4000, data: { durationMs: 1 } });
      await store.append('d', { name: 'job.failed', ts: 1000, data: { durationMs: 1, error: { code: 'x', message: 'y' } } });
      assert.deepEqual(await store.recentlyFinished(10), ['a', 'b', 'd']);
      assert.deepEqual(await store.recentlyFinished(2), ['a', 'b']);
      assert.deepEqual(await store.recentlyFinished(0), []);
      await store.delete('b');
      assert.deepEqual(await store.recentlyFinished(10), ['a', 'd']);
    });

    test('delete forgets the job and its log', async (t) => {
      const store = await open(t, 10);
      await play(store, 'gone', [ev.started(), ev.jobCancelled()]);
      await store.createJob('kept', queued());
      assert.equal(await store.delete('gone'), true);
      assert.equal(await store.delete('gone'), false);
      assert.equal(await store.getSnapshot('gone'), null);
      assert.equal(await store.eventsSince('gone', 0), null);
      await rejectsWith(store.append('gone', ev.started()), 'job_not_found');
      assert.deepEqual((await store.list({ limit: 10 })).jobs.map((s) => s.id), ['kept']);
      assert.deepEqual(await store.countByStatus(), { queued: 1, running: 0, completed: 0, failed: 0, cancelled: 0 });
    });

    test('close is idempotent and every later call rejects', async (t) => {
      const store = await open(t, 10);
      await store.createJob('x', queued());
      await store.ping();
      const closing = store.close();
      assert.equal(store.close(), closing, 'every caller gets the same promise');
      await closing;
      await store.close();
      await assert.rejects(store.append('x', ev.started()));
      await assert.rejects(store.createJob('y', queued()));
      await assert.rejects(store.getSnapshot('x'));
      await assert.rejects(store.ping());
    });
  });
}

async function pageIds(store: Store, limit: number, status?: JobStatus): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(status === undefined ? { limit, cursor } : { limit, status, cursor });
    pages.push(page.jobs.map((s) => s.id));
    cursor = page.next ?? undefined;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

contract('memory', async (_t, logSize) => createMemoryStore({ logSize }));
contract('sqlite', async (t, logSize) => openSqlite(t, join(await tempDir(t), 'jobs.db'), { logSize }));

/**
 * The event the crash test's writer appends at `seq`. The child process runs this very
 * function (its source goes into the child's script), so the test knows every event.
 * A requeue every 97 events puts job-level transitions, and so base rewrites, in the mix.
 */
function crashEvent(seq: number): NewEvent {
  if (seq === 1) {
    const files = [0, 1, 2].map((index) => ({ index, name: `f${index}`, size: 1e9, type: 'text/plain' }));
    return { name: 'job.queued', ts: seq, data: { processor: 'sha256', label: null, failFast: false, files, position: 1 } };
  }
  if (seq % 97 === 0) return { name: 'job.requeued', ts: seq, data: { reason: 'shutdown', position: 1 } };
  if (seq % 97 === 2) return { name: 'job.started', ts: seq, data: {} };
  if (seq % 97 === 3) return { name: 'file.started', ts: seq, data: { file: 0 } };
  return { name: 'file.progress', ts: seq, data: { file: 0, done: seq, total: 1e9, fraction: seq / 1e9, rate: null, etaMs: null, jobEtaMs: null } };
}

describe('sqlite store', () => {
  test('close and reopen keeps jobs, logs and seq, also when the cache is tiny', async (t) => {
    const path = join(await tempDir(t), 'nested', 'dir', 'jobs.db');
    const first = await openSqliteStore(path, { logSize: 5, cachedJobs: 1 });
    const runs = { a: realisticRun(40), b: realisticRun(3), c: [ev.started(), ev.fileStarted(0), ev.progress(0, 10)] };
    const events: Record<string, JobEvent[]> = {};
    for (const [id, run] of Object.entries(runs)) events[id] = await play(first, id, run);
    // Interleave appends so the one-entry cache keeps evicting and rebuilding from the file.
    for (let i = 0; i < 30; i++) {
      for (const id of ['c', 'd']) {
        if (i === 0 && id === 'd') events.d = await play(first, 'd', []);
        events[id]!.push((await first.append(id, ev.progress(0, i))).event);
      }
    }
    const before = { list: await first.list({ limit: 10 }), counts: await first.countByStatus() };
    await first.close();
    const store = await openSqlite(t, path, { logSize: 5 });
    for (const [id, list] of Object.entries(events)) {
      assert.deepEqual(await store.getSnapshot(id), foldEvents(null, list), `snapshot of ${id}`);
      assert.deepEqual(await store.eventsSince(id, list.length - 5), list.slice(-5));
      assert.equal(await store.eventsSince(id, list.length - 6), null);
    }
    assert.deepEqual(await store.list({ limit: 10 }), before.list);
    assert.deepEqual(await store.countByStatus(), before.counts);
    const next = await store.append('c', ev.completed(0));
    assert.equal(next.event.seq, events.c!.length + 1);
    assert.deepEqual(next.snapshot, foldEvents(null, [...events.c!, next.event]));
  });

  test('keeps the on-disk invariants: at most logSize events, base within reach, status column current', async (t) => {
    const path = join(await tempDir(t), 'jobs.db');
    const store = await openSqlite(t, path, { logSize: 7 });
    await play(store, 'inv', realisticRun(50));
    await play(store, 'run', [ev.started(), ev.fileStarted(0), ...Array.from({ length: 33 }, (_, i) => ev.progress(0, i))]);
    const db = new Database(path, { readonly: true });
    t.after(() => db.close());
    const rows = db
      .prepare('SELECT id, status, seq, base_seq, (SELECT count(*) FROM events WHERE job_n = n) AS kept, (SELECT min(seq) FROM events WHERE job_n = n) AS oldest FROM jobs ORDER BY n')
      .all() as Array<{ id: string; status: string; seq: number; base_seq: number; kept: number; oldest: number }>;
    assert.deepEqual(rows.map((r) => [r.id, r.status]), [['inv', 'failed'], ['run', 'running']]);
    for (const row of rows) {
      assert.equal(row.kept, 7);
      assert.equal(row.oldest, row.seq - 6);
      assert.ok(row.base_seq >= row.oldest - 1 && row.base_seq <= row.seq, `base_seq ${row.base_seq} within the log`);
    }
    assert.equal(rows[0]!.base_seq, rows[0]!.seq, 'a job-level transition rewrites base');
  });

  test('reopening with a smaller --log-size pulls base forward before trimming', async (t) => {
    const path = join(await tempDir(t), 'jobs.db');
    const first = await openSqliteStore(path, { logSize: 1000 });
    const events = await play(first, 'shrink', [ev.started(), ev.fileStarted(0), ...Array.from({ length: 60 }, (_, i) => ev.progress(0, i))]);
    await first.close();
    const store = await openSqlite(t, path, { logSize: 3 });
    assert.deepEqual(await store.getSnapshot('shrink'), foldEvents(null, events));
    events.push((await store.append('shrink', ev.progress(0, 999))).event);
    await store.close();
    const again = await openSqlite(t, path, { logSize: 3 });
    assert.deepEqual(await again.getSnapshot('shrink'), foldEvents(null, events));
    assert.deepEqual(await again.eventsSince('shrink', events.length - 3), events.slice(-3));
  });

  test('refuses a file written by a newer schema', async (t) => {
    const path = join(await tempDir(t), 'future.db');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    await assert.rejects(openSqliteStore(path, { logSize: 5 }), /newer jobcast/);
  });

  test('openStore picks the store from the --store URL', async (t) => {
    const dir = await tempDir(t);
    const sqlite = await openStore(`sqlite:${join(dir, 'via-url.db')}`, { logSize: 5 });
    await sqlite.ping();
    await sqlite.close();
    const memory = await openStore('memory', { logSize: 5 });
    await memory.close();
    await assert.rejects(openStore('redis://localhost:6379', { logSize: 5 }), {
      name: 'ConfigError',
      message: '--store redis:// is not available in this build; use sqlite:PATH or memory',
    });
    await assert.rejects(openStore('postgres://x', { logSize: 5 }), { name: 'ConfigError' });
    await assert.rejects(openStore('sqlite:', { logSize: 5 }), { name: 'ConfigError' });
    await assert.rejects(openStore('memory', { logSize: 0 }), { name: 'ConfigError' });
  });

  test('every acknowledged append survives kill -9 of the writing process', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'crash.db');
    const script = join(dir, 'writer.mjs');
    const storeUrl = new URL('../server/store/sqlite-store.js', import.meta.url).href;
    // The child acknowledges a seq only after append() resolved, as the server answers a
    // client. A log of 50 makes trims and base rewrites happen all through the kill window.
    await writeFile(
      script,
      `import { openSqliteStore } from ${JSON.stringify(storeUrl)};
${crashEvent.toString()}
const store = await openSqliteStore(process.argv[2], { logSize: 50 });
const ack = (appended) => process.stdout.write(appended.event.seq + '\\n');
ack(await store.createJob('crash', crashEvent(1)));
for (let seq = 2; seq < 1e6; seq++) ack(await store.append('crash', crashEvent(seq)));
`,
    );
    const child = spawn(process.execPath, [script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    let acknowledged = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      assert.equal(Number(line), acknowledged + 1, 'the child acknowledges seqs in order');
      acknowledged = Number(line);
      if (acknowledged === 500) child.kill('SIGKILL');
    }
    assert.equal(await exited, 'SIGKILL');
    assert.ok(acknowledged >= 500);

    const store = await openSqlite(t, path, { logSize: 50 });
    const snapshot = await store.getSnapshot('crash');
    assert.ok(snapshot !== null && snapshot.seq >= acknowledged, `seq ${snapshot?.seq} covers the ${acknowledged} acknowledged`);
    const expected = Array.from({ length: snapshot.seq }, (_, i) => ({ type: 'event', job: 'crash', seq: i + 1, ...crashEvent(i + 1) }) as JobEvent);
    assert.deepEqual(snapshot, foldEvents(null, expected));
    assert.deepEqual(await store.eventsSince('crash', snapshot.seq - 50), expected.slice(-50));
    const next = await store.append('crash', crashEvent(snapshot.seq + 1));
    assert.equal(next.event.seq, snapshot.seq + 1);
    assert.deepEqual(next.snapshot, foldEvents(snapshot, [next.event]));
    t.diagnostic(`acknowledged ${acknowledged} appends before the kill landed; the file holds ${snapshot.seq}`);
  });

  test('appends per second of file.progress on a 1000-file job (sanity figure)', async (t) => {
    for (const [name, open] of [
      ['sqlite', async () => openSqlite(t, join(await tempDir(t), 'perf.db'), { logSize: 1000 })],
      ['memory', async () => createMemoryStore({ logSize: 1000 })],
    ] as const) {
      const store: Store = await open();
      await store.createJob('perf', queued(1000, 1_000_000));
      await store.append('perf', ev.started());
      let last: Snapshot | null = null;
      let count = 0;
      const startedAt = performance.now();
      for (let file = 0; file < 100; file++) {
        await store.append('perf', ev.fileStarted(file));
        for (let i = 1; i <= 50; i++, count++) last = (await store.append('perf', ev.progress(file, i * 20_000, 1_000_000))).snapshot;
        await store.append('perf', ev.completed(file));
      }
      const seconds = (performance.now() - startedAt) / 1000;
      assert.equal(last?.files.length, 1000);
      t.diagnostic(`${name}: ${Math.round(count / seconds)} file.progress appends/s (${Math.round((count + 200) / seconds)} events/s overall) on a 1000-file job`);
    }
  });
});
