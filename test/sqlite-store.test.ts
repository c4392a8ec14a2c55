// What only the SQLite store's file can show, beyond the Store contract (store.test.ts):
// reopening, a kill -9 in the middle of appends, the on-disk invariants, and the figure
// of appends per second.

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
import type { JobEvent, NewEvent, Snapshot } from '../server/protocol/types.js';
import { createMemoryStore } from '../server/store/memory-store.js';
import { openStore } from '../server/store/open-store.js';
import { openSqliteStore, type SqliteStoreOptions } from '../server/store/sqlite-store.js';
import type { Store } from '../server/store/store.js';
import { ev, play, queued, realisticRun, tick } from './contracts/events.js';

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

  test('a file from schema 1 (no search table) is upgraded: its jobs are found by q', async (t) => {
    const path = join(await tempDir(t), 'v1.db');
    const first = await openSqliteStore(path, { logSize: 5 });
    await play(first, 'old-job', [ev.started(), ev.jobCompleted()]);
    await first.createJob('old-queued', queued(2));
    await first.close();
    const db = new Database(path);
    db.exec('DROP TABLE job_search');
    db.pragma('user_version = 1');
    db.close();
    const store = await openSqlite(t, path, { logSize: 5 });
    assert.deepEqual((await store.list({ limit: 10, q: 'F1.BIN' })).jobs.map((s) => s.id), ['old-queued', 'old-job']);
    assert.deepEqual((await store.list({ limit: 10, q: 'old-j' })).jobs.map((s) => s.id), ['old-job']);
    await store.createJob('new-job', queued(1));
    assert.equal((await store.list({ limit: 10, q: 'batch' })).jobs.length, 3);
  });

  test('q over 20,000 jobs (sanity figure)', async (t) => {
    const store = await openSqlite(t, join(await tempDir(t), 'search.db'), { logSize: 5 });
    const jobs = 20_000;
    for (let i = 0; i < jobs; i++) {
      const files = [0, 1, 2].map((index) => ({ index, name: `run-${i}/part-${index}.csv`, size: 100, type: 'text/csv' }));
      await store.createJob(`job-${i}`, { name: 'job.queued', ts: tick(), data: { processor: 'sha256', label: `batch ${i % 97}`, failFast: false, files, position: 1 } });
    }
    const time = async (q: string) => {
      const startedAt = performance.now();
      const page = await store.list({ limit: 50, q });
      return { ms: performance.now() - startedAt, found: page.jobs.length };
    };
    const rare = await time('run-17/');
    const none = await time('no such name');
    const common = await time('part-1');
    assert.equal(rare.found, 1);
    assert.equal(none.found, 0);
    assert.equal(common.found, 50);
    t.diagnostic(
      `${jobs} jobs: a name found once ${rare.ms.toFixed(1)} ms, found nowhere ${none.ms.toFixed(1)} ms, a first page of a common name ${common.ms.toFixed(1)} ms`,
    );
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
      message: '--store redis:// comes with its queue and feed: open it with openBackend',
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
