import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Spool } from '../server/spool/spool.js';

test('Spool: paths, bad ids, orphan sweep, writability', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'jobcast-spool-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const spool = new Spool(join(base, 'root'));
  await spool.init();
  assert.equal(spool.inputPath('V1StGXR8_Z5jdHi6B-myT', 3), join(base, 'root', 'V1StGXR8_Z5jdHi6B-myT', 'in-3'));
  assert.equal(spool.outputPath('abc', 0), join(base, 'root', 'abc', 'out-0'));
  for (const bad of ['', '.', '..', '../x', 'a/b', 'a\\b', 'a b', 'x'.repeat(65)]) {
    assert.throws(() => spool.jobDir(bad), /job id/, JSON.stringify(bad));
    await assert.rejects(spool.removeJob(bad), /job id/, JSON.stringify(bad));
  }
  assert.throws(() => spool.inputPath('abc', -1), /index/);
  assert.throws(() => spool.inputPath('abc', 1.5), /index/);

  await writeFile(join(base, 'outside'), 'keep me');
  await spool.createJobDir('known');
  await writeFile(spool.inputPath('known', 0), 'x');
  await spool.createJobDir('orphan');
  await writeFile(join(spool.root, 'stray-file'), 'x');
  await mkdir(join(spool.root, 'not an id'));
  await symlink(base, join(spool.root, 'link'));
  // Only the orphan job folder goes; what is not recognisably a job folder is not ours.
  assert.equal(await spool.sweepOrphans(async (id) => id === 'known'), 1);
  assert.deepEqual((await readdir(spool.root)).sort(), ['known', 'link', 'not an id', 'stray-file']);
  assert.equal(await readFile(join(base, 'outside'), 'utf8'), 'keep me', 'a symlink is not followed');

  assert.equal(await spool.isWritable(), true);
  assert.deepEqual((await readdir(spool.root)).sort(), ['known', 'link', 'not an id', 'stray-file'], 'the probe is removed');
  await spool.removeJob('known');
  await spool.removeJob('known');
  assert.deepEqual((await readdir(spool.root)).sort(), ['link', 'not an id', 'stray-file']);
  assert.equal(await new Spool(join(base, 'missing', 'deeper')).isWritable(), false);
});
