// Storage faults, on real file systems the test controls: small tmpfs mounts (needs
// root or CAP_SYS_ADMIN; skipped otherwise) that are filled to the last byte.
// - The spool disk filling up mid-upload: 507 insufficient_storage, no partial file
//   (the space is all given back), and uploads work again at once.
// - The store's disk full: SQLite cannot commit. /readyz answers 503 not_ready, uploads
//   503 not_ready (before their body is read once the server knows), no job and no
//   spool file is left, and both recover once space is freed.
// - The store's disk full while a job runs: processing pauses, and once space is freed
//   the job is requeued (reason "store") and completes, its seq gapless.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { foldEvents } from '../server/protocol/reducer.js';
import type { Snapshot } from '../server/protocol/types.js';
import { postUpload, rawGet, type RawResponse } from './helpers/raw-http.js';
import { listJobs, pollJob } from './helpers/http.js';
import { FIXTURE_PROCESSORS, startTestServer } from './helpers/server.js';
import { eventLog } from './helpers/ws-client.js';
import { HANG_MS } from './helpers/patience.js';

const B = 'storage-faults-boundary';
const CONTENT_TYPE = `multipart/form-data; boundary=${B}`;

function uploadBody(files: Array<{ name: string; size: number }>): Buffer {
  const parts = files.map(({ name, size }) =>
    Buffer.concat([
      Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      Buffer.alloc(size, 0x61),
      Buffer.from('\r\n'),
    ]),
  );
  return Buffer.concat([...parts, Buffer.from(`--${B}--\r\n`)]);
}

/** Mounts a tmpfs of `size` at `dir`; false when this process may not mount. */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const canMount = ((): boolean => {
  const probe = mkdtempSync(join(tmpdir(), 'jobcast-mount-probe-'));
  const isMounted = mountTmpfs(probe, '64k');
  if (isMounted) execFileSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return isMounted;
})();
const SKIP = !canMount && 'mounting a tmpfs needs root or CAP_SYS_ADMIN';

/**
 * A temp folder with tmpfs mounts in it, all undone after the test: the server closed
 * first (startTestServer's close is the same promise), then the mounts, then the folder.
 */
function sandbox(t: TestContext): { base: string; mount(name: string, size: string): string; closeServerFirst(close: () => Promise<void>): void } {
  const base = mkdtempSync(join(tmpdir(), 'jobcast-storage-'));
  const mounts: string[] = [];
  let closeServer: () => Promise<void> = async () => undefined;
  t.after(async () => {
    await closeServer();
    for (const dir of mounts.reverse()) {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      }
    }
    rmSync(base, { recursive: true, force: true });
  });
  return {
    base,
    mount(name, size) {
      const dir = join(base, name);
      mkdirSync(dir);
      assert.ok(mountTmpfs(dir, size), `mount a tmpfs at ${dir}`);
      mounts.push(dir);
      return dir;
    },
    closeServerFirst(close) {
      closeServer = close;
    },
  };
}

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Writes `dir`/filler until the file system has not one byte left; returns its path. */
function fillUp(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 16, 1]) {
      const block = Buffer.alloc(size, 0x66);
      for (;;) {
        try {
          writeSync(fd, block);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  assert.equal(freeBytes(dir), 0, 'the file system is full');
  return path;
}

/** Spool entries that are job folders (the readiness probe's files excluded). */
async function spoolJobs(spool: string): Promise<string[]> {
  return (await readdir(spool)).filter((name) => !name.startsWith('.probe-')).sort();
}

function assertError(response: RawResponse | null, status: number, code: string): RawResponse {
  assert.ok(response !== null, 'an answer');
  assert.equal(response.status, status, response.body.toString('utf8'));
  assert.equal(response.json?.error?.code, code);
  return response;
}

test('the spool disk filling up mid-upload: 507, no partial file, space given back, next upload accepted', { skip: SKIP }, async (t) => {
  const box = sandbox(t);
  const spool = box.mount('spool', '1m');
  const server = await startTestServer(t, { spoolDir: spool });
  box.closeServerFirst(() => server.close());
  const freeBefore = freeBytes(spool);

  // The first file fits, the second runs out of room half-way.
  const tooBig = uploadBody([{ name: 'fits.bin', size: 400 * 1024 }, { name: 'too-big.bin', size: 2 * 1024 * 1024 }]);
  const response = await postUpload(server.port, CONTENT_TYPE, tooBig, { pieceSize: 64 * 1024 });
  assertError(response, 507, 'insufficient_storage');
  assert.deepEqual(await spoolJobs(spool), [], 'no partial file or folder');
  assert.equal(freeBytes(spool), freeBefore, 'every byte written was given back (no file kept open)');

  const ok = await postUpload(server.port, CONTENT_TYPE, uploadBody([{ name: 'small.bin', size: 100 * 1024 }]));
  assert.equal(ok?.status, 202, ok?.body.toString('utf8'));
  const job = await pollJob(server.url, (ok.json as Snapshot).id);
  assert.equal(job.status, 'completed');
  assert.equal((await stat(join(spool, job.id, 'in-0'))).size, 100 * 1024);
  assert.equal((await listJobs(server.url, 10)).length, 1, 'only the accepted job');
});

test('a spool disk that is already full: /readyz 503, uploads 507 before their body, both recover', { skip: SKIP }, async (t) => {
  const box = sandbox(t);
  const spool = box.mount('spool', '1m');
  const server = await startTestServer(t, { spoolDir: spool });
  box.closeServerFirst(() => server.close());
  const filler = fillUp(spool);

  const notReady = assertError(await rawGet(server.port, '/readyz'), 503, 'not_ready');
  assert.match(notReady.json.error.message, /spool.*ENOSPC/);
  // Only the head is sent: the answer cannot come from writing the body.
  const body = uploadBody([{ name: 'a.bin', size: 512 * 1024 }]);
  assertError(await postUpload(server.port, CONTENT_TYPE, body, { sendBytes: 0 }), 507, 'insufficient_storage');
  assert.deepEqual(await spoolJobs(spool), ['filler']);

  rmSync(filler);
  assert.equal((await rawGet(server.port, '/readyz')).status, 200);
  const ok = await postUpload(server.port, CONTENT_TYPE, uploadBody([{ name: 'a.bin', size: 1000 }]));
  assert.equal(ok?.status, 202, ok?.body.toString('utf8'));
});

test('the disk fills up exactly with the files: writing the job options fails, 507 and nothing left', { skip: SKIP }, async (t) => {
  const box = sandbox(t);
  const spool = box.mount('spool', '1m');
  const server = await startTestServer(t, { spoolDir: spool });
  box.closeServerFirst(() => server.close());
  // tmpfs counts whole pages and folders take none: a file of exactly the free bytes
  // fits, and the job's options.json, written after the files, finds no room.
  const response = await postUpload(server.port, CONTENT_TYPE, uploadBody([{ name: 'exact.bin', size: freeBytes(spool) }]));
  assertError(response, 507, 'insufficient_storage');
  assert.deepEqual(await spoolJobs(spool), []);
  assert.equal((await listJobs(server.url, 10)).length, 0);
});

test('the store cannot be written (its disk is full): /readyz and uploads 503 not_ready, nothing left, then recovery', { skip: SKIP }, async (t) => {
  const box = sandbox(t);
  const dbDir = box.mount('db', '8m');
  mkdirSync(join(box.base, 'spool'));
  const spool = join(box.base, 'spool');
  const server = await startTestServer(t, { spoolDir: spool, store: `sqlite:${join(dbDir, 'jobcast.db')}` });
  box.closeServerFirst(() => server.close());
  const first = await postUpload(server.port, CONTENT_TYPE, uploadBody([{ name: 'before.bin', size: 1000 }]));
  assert.equal(first?.status, 202);
  const firstId = (first.json as Snapshot).id;
  // Nothing may be running when the store breaks: this test is about intake.
  await pollJob(server.url, firstId);

  const filler = fillUp(dbDir);
  // Right away: the server may still trust its last check, then the job cannot be stored.
  const refused = assertError(await postUpload(server.port, CONTENT_TYPE, uploadBody([{ name: 'a.bin', size: 1000 }])), 503, 'not_ready');
  assert.equal(refused.headers['retry-after'], '5');
  const notReady = assertError(await rawGet(server.port, '/readyz'), 503, 'not_ready');
  assert.match(notReady.json.error.message, /store.*SQLITE_FULL/);
  // Now it knows: refused on the headers, the body never sent.
  const held = uploadBody([{ name: 'held.bin', size: 512 * 1024 }]);
  assertError(await postUpload(server.port, CONTENT_TYPE, held, { sendBytes: 0 }), 503, 'not_ready');
  assert.deepEqual(await spoolJobs(spool), [firstId], 'no spool folder of a refused upload');
  assert.equal((await rawGet(server.port, `/jobs/${firstId}`)).status, 200, 'reads still work');

  rmSync(filler);
  assert.equal((await rawGet(server.port, '/readyz')).status, 200);
  const after = await postUpload(server.port, CONTENT_TYPE, uploadBody([{ name: 'after.bin', size: 1000 }]));
  assert.equal(after?.status, 202, after?.body.toString('utf8'));
  assert.equal((await pollJob(server.url, (after.json as Snapshot).id)).status, 'completed', 'its events are stored again');
  const ids = (await listJobs(server.url, 10)).map((job) => job.id);
  assert.deepEqual(ids.sort(), [firstId, (after.json as Snapshot).id].sort(), 'no job from the refused uploads');
});

test('the store recovers without /readyz: refused uploads check the store again by themselves', { skip: SKIP }, async (t) => {
  const box = sandbox(t);
  const dbDir = box.mount('db', '8m');
  mkdirSync(join(box.base, 'spool'));
  const server = await startTestServer(t, { spoolDir: join(box.base, 'spool'), store: `sqlite:${join(dbDir, 'jobcast.db')}` });
  box.closeServerFirst(() => server.close());
  const filler = fillUp(dbDir);
  const body = uploadBody([{ name: 'a.bin', size: 1000 }]);
  assertError(await postUpload(server.port, CONTENT_TYPE, body), 503, 'not_ready');
  rmSync(filler);
  // A client retrying, as Retry-After asks: accepted once the failed check is over a second
  // old. Nothing else (no /readyz) makes the server look again. How soon is a figure, not a
  // bound: a busy machine stretches it.
  const freedAt = performance.now();
  const response = await until(() => postUpload(server.port, CONTENT_TYPE, body), (r) => r?.status !== 503, 'an upload accepted again');
  assert.equal(response?.status, 202, response?.body.toString('utf8'));
  t.diagnostic(`uploads accepted again ${Math.round(performance.now() - freedAt)} ms after the store's disk had room`);
});

/** Polls `read` until `accept` holds; fails after `timeoutMs` (a hang). The server offers no event for these states. */
async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = HANG_MS): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}: last saw ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A server whose store sits on a small tmpfs, running one `gated` job of `files` (1000
 * bytes each) whose first file is running: `gated` holds each file at half done until
 * `release()` writes the file it waits for beside the spool.
 */
async function runningGatedJob(t: TestContext, files: string[]) {
  const box = sandbox(t);
  const dbDir = box.mount('db', '8m');
  mkdirSync(join(box.base, 'spool'));
  const server = await startTestServer(t, {
    spoolDir: join(box.base, 'spool'),
    store: `sqlite:${join(dbDir, 'jobcast.db')}`,
    processorDir: FIXTURE_PROCESSORS,
  });
  box.closeServerFirst(() => server.close());
  const processor = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="processor"\r\n\r\ngated\r\n`);
  const body = Buffer.concat([processor, uploadBody(files.map((name) => ({ name, size: 1000 })))]);
  const created = await postUpload(server.port, CONTENT_TYPE, body);
  assert.equal(created?.status, 202, created?.body.toString('utf8'));
  const id = (created.json as Snapshot).id;
  const job = async (): Promise<Snapshot> => (await rawGet(server.port, `/jobs/${id}`)).json as Snapshot;
  const queue = async () => (await rawGet(server.port, '/queue')).json as { queued: number; running: number };
  await until(job, (s) => s.files[0]!.status === 'running', 'the first file to run');
  return { server, dbDir, id, job, queue, release: () => writeFileSync(join(box.base, 'release'), '') };
}

test('the store fills up while a job runs: processing pauses, then the job is requeued (reason "store") and completes', { skip: SKIP }, async (t) => {
  const { server, dbDir, id, job, queue, release } = await runningGatedJob(t, ['a.bin', 'b.bin']);

  const filler = fillUp(dbDir);
  release();
  // The first file ends in the worker, but its file.completed cannot be stored: the job
  // goes back to the queue, still `running` in the store, and nothing starts.
  const held = await until(queue, (q) => q.queued === 1, 'the job back in the queue');
  assert.equal(held.running, 0, 'nothing runs while the store cannot be written');
  assert.equal((await job()).status, 'running', 'the store still holds the last state it could write');

  rmSync(filler);
  const final = await pollJob(server.url, id);
  assert.equal(final.status, 'completed');
  assert.deepEqual(final.files.map((f) => f.status), ['done', 'done']);
  const events = await eventLog(t, server.url, id);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seq is gapless');
  const requeued = events.filter((e) => e.name === 'job.requeued');
  assert.deepEqual(requeued.map((e) => e.data), [{ reason: 'store', position: 1 }]);
  assert.equal(events.filter((e) => e.name === 'file.completed').length, 2, 'each file completed once');
  assert.deepEqual(foldEvents(null, events), final, 'the fold of the log is the snapshot');
});

test('a cancel that cannot be stored answers 503 not_ready; the job waits and then runs on once the store works', { skip: SKIP }, async (t) => {
  const { server, dbDir, id, queue, release } = await runningGatedJob(t, ['a.bin']);

  const filler = fillUp(dbDir);
  const cancel = await fetch(`${server.url}/jobs/${id}/cancel`, { method: 'POST' });
  assert.equal(cancel.status, 503);
  assert.equal(((await cancel.json()) as { error: { code: string } }).error.code, 'not_ready');
  const held = await until(queue, (q) => q.queued === 1, 'the stopped job back in the queue');
  assert.equal(held.running, 0);

  release();
  rmSync(filler);
  const final = await pollJob(server.url, id);
  assert.equal(final.status, 'completed');
  const events = await eventLog(t, server.url, id);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seq is gapless');
  assert.deepEqual(events.filter((e) => e.name === 'job.requeued').map((e) => e.data), [{ reason: 'store', position: 1 }]);
});
