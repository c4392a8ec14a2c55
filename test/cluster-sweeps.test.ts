// Sweeps with several processes on one store: retention deletes each expired job once
// (one process sweeps at a time), and a process starting up removes spool folders that
// belong to nobody without touching another process's upload still streaming in.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startCluster } from './helpers/cluster.js';
import { createJob, getJob, pollJob } from './helpers/http.js';
import { redisSkipReason } from './helpers/redis.js';
import { HANG_MS } from './helpers/patience.js';

const SKIP = redisSkipReason() ?? false;

test('retention across processes: each expired job is deleted once, by one process', { skip: SKIP }, async (t) => {
  const cluster = await startCluster(t, { servers: 2, args: ['--retention', '1s'] });
  const [first, second] = cluster.servers as [typeof cluster.servers[0], typeof cluster.servers[0]];
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push((await createJob(first.url, [{ name: `f${i}`, content: `retained ${i}` }])).id);
  // No wait for the jobs to finish first: one that finished early may already be gone.
  // The sweep deletes finished jobs only, and the log below counts every deletion.
  for (const id of ids) {
    for (const deadline = Date.now() + HANG_MS; (await fetch(`${second.url}/jobs/${id}`)).status !== 404; await delay(50)) {
      if (Date.now() > deadline) throw new Error(`${id} was not deleted`);
    }
    assert.equal((await fetch(`${first.url}/jobs/${id}`)).status, 404, 'gone for both processes');
  }
  const deleted = cluster.servers.flatMap((s) => s.logs.filter((l) => l.msg === 'deleted finished jobs past --retention').map((l) => Number(l.deleted)));
  assert.equal(deleted.reduce((a, b) => a + b, 0), ids.length, `each job deleted once in all (${deleted.join(' + ')})`);
  assert.deepEqual((await readdir(join(cluster.dir, 'spool'))).filter((name) => !name.startsWith('.')), [], 'their files too');
});

test('a process starting up removes orphaned spool folders, not another process\'s upload in progress', { skip: SKIP }, async (t) => {
  const cluster = await startCluster(t, { servers: 1 });
  const spool = join(cluster.dir, 'spool');
  const url = new URL(cluster.servers[0]!.url);
  const boundary = 'sweep-boundary';
  const half = 'a'.repeat(64 * 1024);
  const upload = request({
    host: url.hostname,
    port: url.port,
    path: '/jobs',
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
  });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    upload.once('response', (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    upload.once('error', reject);
  });
  upload.write(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="slow.bin"\r\ncontent-type: application/octet-stream\r\n\r\n${half}`);
  // The upload's folder exists before its job does.
  let streaming: string[] = [];
  for (const deadline = Date.now() + HANG_MS; streaming.length === 0; await delay(10)) {
    // Readiness probes (`.probe-*`) come and go: only job folders count.
    streaming = (await readdir(spool)).filter((name) => !name.startsWith('.'));
    if (Date.now() > deadline) throw new Error('the upload made no folder');
  }
  const orphan = join(spool, 'orphanedUploadFolder123');
  await mkdir(orphan);
  await writeFile(join(orphan, 'in-0'), 'left by a crash');
  const longAgo = new Date(Date.now() - 3600_000);
  await utimes(join(orphan, 'in-0'), longAgo, longAgo);
  await utimes(orphan, longAgo, longAgo);

  await cluster.addServer();
  assert.equal(await stat(orphan).catch(() => null), null, 'the orphaned folder is gone');
  assert.ok((await stat(join(spool, streaming[0]!))).isDirectory(), 'the upload in progress is untouched');

  upload.end(`${half}\r\n--${boundary}--\r\n`);
  const answer = await answered;
  assert.equal(answer.status, 202, answer.body);
  const id = (JSON.parse(answer.body) as { id: string }).id;
  const final = await pollJob(cluster.servers[1]!.url, id);
  assert.equal(final.status, 'completed');
  const expected = createHash('sha256').update(half + half).digest('hex');
  assert.equal((final.files[0]!.result as { sha256: string }).sha256, expected, 'the file arrived whole');
  assert.equal((await getJob(cluster.servers[0]!.url, id)).status, 'completed');
});
