// Uploads stream to the spool as they arrive, never buffered whole (SPEC 2.1): the
// client sends half of a large file and stops, and the server must already have written
// most of that half to disk before the client sends the rest.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestServer } from './helpers/server.js';
import { HANG_MS } from './helpers/patience.js';

const MiB = 1024 * 1024;
const BOUNDARY = 'jobcast-streaming';

/** Size of the first spooled file of the only job in `spoolDir`, or 0 while there is none. */
async function spooledBytes(spoolDir: string): Promise<number> {
  const jobs = (await readdir(spoolDir)).filter((name) => !name.startsWith('.'));
  if (jobs.length === 0) return 0;
  assert.equal(jobs.length, 1, 'one upload, one job folder');
  return stat(join(spoolDir, jobs[0]!, 'in-0')).then(
    (s) => s.size,
    () => 0,
  );
}

test('a 64 MiB upload is on disk as it arrives: half sent, most of that half already spooled', async (t) => {
  const server = await startTestServer(t);
  const size = 64 * MiB;
  const head = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const block = randomBytes(MiB);
  const req = request({
    host: '127.0.0.1',
    port: server.port,
    method: 'POST',
    path: '/jobs',
    agent: false,
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': head.length + size + tail.length },
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
  });
  const send = async (mib: number): Promise<void> => {
    for (let i = 0; i < mib; i++) if (!req.write(block)) await new Promise((resolve) => req.once('drain', resolve));
  };

  req.write(head);
  await send(32);
  // The client now waits: only a server that writes as it reads gets the bytes to disk.
  const halfway = 24 * MiB;
  // Wrong behaviour (a body buffered whole) never gets there; the deadline only ends that wait.
  const deadline = performance.now() + HANG_MS;
  let onDisk = 0;
  while ((onDisk = await spooledBytes(server.config.spoolDir)) < halfway) {
    assert.ok(performance.now() < deadline, `only ${onDisk} bytes spooled while the client waits with 32 MiB sent`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.diagnostic(`${(onDisk / MiB).toFixed(1)} MiB on disk before the client sent the second half`);
  await send(32);
  req.end(tail);
  const { status, body } = await answer;
  assert.equal(status, 202, body);
  const job = JSON.parse(body) as { files: Array<{ size: number }> };
  assert.equal(job.files[0]!.size, size);
});
