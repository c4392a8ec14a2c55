// An operator mistake must not delete the database: with `--store sqlite:D/jobcast.db
// --spool-dir D`, the start-up orphan sweep deleted jobcast.db and its WAL files. The
// server now refuses to start when the spool holds the store (exit 2, naming both
// settings), and the sweep removes only what it recognises as a job folder.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createJob } from './helpers/http.js';
import { REPO_ROOT, startTestServer, tempDir, withTestEngine } from './helpers/server.js';
import { HANG_MS, TEST_HANG_MS } from './helpers/patience.js';

const MAIN = join(REPO_ROOT, 'dist/server/main.js');

/** Runs the server with `args` and returns its exit code and stderr (it exits at once when refused). */
function runServer(args: string[]): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, [MAIN, ...withTestEngine(args), '--port', '0', '--log-level', 'silent'], { encoding: 'utf8', timeout: HANG_MS });
  return { status: run.status, stderr: run.stderr };
}

test('a spool that holds the sqlite store stops the server with exit code 2 naming both settings, and the database survives', { timeout: TEST_HANG_MS }, async (t) => {
  const dir = await tempDir(t);
  // A store with a job in it, made by a server with separate folders.
  const first = await startTestServer(t, { spoolDir: join(dir, 'spool') });
  const job = await createJob(first.url, [{ name: 'a.txt', content: 'a' }]);
  await first.close();
  const database = join(dir, 'jobcast.db');
  assert.ok((await stat(database)).size > 0);
  // The same folder through a symbolic link is the same folder.
  const link = join(await tempDir(t), 'link');
  await symlink(dir, link);

  for (const spool of [dir, link]) {
    const refused = runServer(['--store', `sqlite:${database}`, '--spool-dir', spool]);
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /--spool-dir .* contains the database of --store/);
  }
  assert.ok((await stat(database)).size > 0, 'jobcast.db is still there');
  // The store still holds the job: a server with the right folders serves it.
  const again = await startTestServer(t, { spoolDir: join(dir, 'spool') });
  assert.equal((await fetch(`${again.url}/jobs/${job.id}`)).status, 200);
});

test('the start-up sweep removes orphan job folders only: foreign files and folders stay, whatever their names', { timeout: TEST_HANG_MS }, async (t) => {
  const dir = await tempDir(t);
  const spool = join(dir, 'spool');
  await mkdir(spool);
  const orphan = join(spool, 'V1StGXR8_Z5jdHi6B-myT');
  await mkdir(orphan);
  await writeFile(join(orphan, 'in-0'), 'x');
  await writeFile(join(orphan, 'options.json'), '{}');
  await mkdir(join(spool, 'emptyorphan'));
  // Named like job ids, but holding what no job writes.
  await mkdir(join(spool, 'notes'));
  await writeFile(join(spool, 'notes', 'todo.txt'), 'keep');
  await mkdir(join(spool, 'backup'));
  await mkdir(join(spool, 'backup', 'in-0'));
  await writeFile(join(spool, 'jobcast.db'), 'not mine');
  await writeFile(join(spool, 'jobcast.db-wal'), 'not mine');
  await symlink(dir, join(spool, 'link'));

  await startTestServer(t, { spoolDir: spool });
  assert.deepEqual((await readdir(spool)).filter((name) => !name.startsWith('.probe-')).sort(), [
    'backup', 'jobcast.db', 'jobcast.db-wal', 'link', 'notes',
  ]);
  assert.deepEqual(await readdir(join(spool, 'notes')), ['todo.txt']);
});
