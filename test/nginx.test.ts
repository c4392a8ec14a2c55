// A real load balancer: Debian's nginx, with the site configuration the README shows
// (deploy/nginx/jobcast.conf), in front of jobcast processes on one Redis. An upload, the
// client SDK (Node, `ws`) and an SSE stream go through it; the process holding the SDK's
// WebSocket is killed and the SDK reconnects through nginx to the other one and converges.
// Then the per-address connection cap through nginx, without --trust-proxy (every client
// is nginx) and with it (every client is itself).

import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { WatchInfo } from '../client/jobcast-client.js';
import { applyEvent } from '../server/protocol/reducer.js';
import { isFinalStatus, type JobEvent, type Snapshot } from '../server/protocol/types.js';
import { spawnJobcast, startCluster, type JobcastProcess } from './helpers/cluster.js';
import { createJob, getJob } from './helpers/http.js';
import { NGINX_SITE, nginxSkipReason, startNginx } from './helpers/nginx.js';
import { HANG_MS } from './helpers/patience.js';
import { redisSkipReason } from './helpers/redis.js';
import { openClient, Trace } from './helpers/sdk-trace.js';
import { FIXTURE_PROCESSORS, REPO_ROOT, tempDir } from './helpers/server.js';
import { SseReader, type SseMessage } from './helpers/sse-client.js';

const SKIP = nginxSkipReason() ?? redisSkipReason() ?? false;
const NGINX_SKIP = nginxSkipReason() ?? false;

type Seen = [Snapshot | null, WatchInfo];

/** `jobcast_push_connections` of one process (WebSockets and SSE streams it holds), read from its own /metrics. */
async function pushConnections(process: JobcastProcess): Promise<number> {
  const text = await (await fetch(`${process.url}/metrics`)).text();
  return Number(/^jobcast_push_connections (\d+)$/m.exec(text)?.[1] ?? NaN);
}

/**
 * The messages of an SSE stream up to its end, or up to its cut (nginx closes the client's
 * connection when its upstream dies mid-response). A stream that stalls fails the test.
 */
async function readAll(sse: SseReader): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  try {
    for (let m = await sse.next(HANG_MS); m !== null; m = await sse.next(HANG_MS)) messages.push(m);
  } catch (err) {
    if (/no SSE message within/.test((err as Error).message)) throw err;
  }
  return messages;
}

/** Folds SSE messages onto `view`, checking that the events follow on. */
function foldSse(view: Snapshot | null, messages: SseMessage[]): Snapshot | null {
  for (const m of messages) {
    const data = JSON.parse(m.data) as { type: 'snapshot'; job: Snapshot } | JobEvent | { type: 'position' };
    if (data.type === 'snapshot') view = data.job;
    else if (data.type === 'event') {
      assert.equal(data.seq, view!.seq + 1, 'SSE events follow on without a gap');
      view = applyEvent(view, data);
    }
  }
  return view;
}

test('through nginx: an upload, the SDK and SSE; the process holding the WebSocket is killed, the SDK reconnects to the other and converges', { skip: SKIP }, async (t) => {
  const cluster = await startCluster(t, { servers: 2, args: ['--trust-proxy', '127.0.0.1'] });
  const nginx = await startNginx(t, cluster.servers.map((s) => new URL(s.url).host));
  const release = join(cluster.dir, 'release');
  // Streamed through nginx (request buffering off): 4 MiB and two small files, each held mid-run until `release`.
  const files = [
    { name: 'big.bin', content: new Uint8Array(4 * 1024 * 1024).fill(7) },
    { name: 'a.txt', content: 'a' },
    { name: 'b.txt', content: 'b' },
  ];
  const job = await createJob(nginx.url, files, { processor: 'probe', options: JSON.stringify({ release }) });
  assert.equal(job.files[0]!.size, 4 * 1024 * 1024, 'the whole body came through');

  const { client, states } = openClient(t, { url: nginx.url });
  const seen = new Trace<Seen>();
  client.watch(job.id, (snapshot, info) => seen.push([snapshot, info]));
  await seen.until('progress of the running job', ([, info]) => info.event?.name === 'file.progress');

  // Which process holds the SDK's socket: the one that counts a push connection.
  const counts = await Promise.all(cluster.servers.map(pushConnections));
  assert.deepEqual([...counts].sort(), [0, 1], `one process holds the WebSocket: ${counts.join(', ')}`);
  const holder = cluster.servers[counts.indexOf(1)]!;
  const other = cluster.servers[counts.indexOf(0)]!;
  // Two SSE streams through nginx: round robin puts one on each process.
  const streams = [
    new SseReader(await fetch(`${nginx.url}/jobs/${job.id}/events`)),
    new SseReader(await fetch(`${nginx.url}/jobs/${job.id}/events`)),
  ];
  const openings = [(await streams[0]!.next())!, (await streams[1]!.next())!];
  assert.deepEqual(openings.map((m) => m.event), ['snapshot', 'snapshot']);
  assert.equal(await pushConnections(holder), 2, 'the process to be killed holds the WebSocket and one SSE stream');

  const beforeKill = states.values.length;
  await holder.kill('SIGKILL');
  await states.until('reconnecting', ([state]) => state === 'reconnecting', { from: beforeKill });
  const live = await states.until('live again', ([state]) => state === 'live', { from: beforeKill });
  assert.equal(live[1].resumed, true);
  assert.ok((await pushConnections(other)) >= 1, 'the SDK is on the other process');

  await writeFile(release, '');
  await seen.until('the job to end', ([snapshot]) => snapshot !== null && isFinalStatus(snapshot.status));
  const final = await getJob(nginx.url, job.id);
  assert.equal(final.status, 'completed');
  assert.deepEqual(seen.last![0], final, "the SDK's view is the final snapshot");
  const seqs = seen.values.flatMap(([, info]) => (info.event === undefined ? [] : [info.event.seq]));
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `event ${seqs[i]} folded after ${seqs[i - 1]}`);

  // SSE: a stream ends after the final event. The one on the killed process was cut, and
  // resumes through nginx with Last-Event-ID, as EventSource does.
  let resumed = 0;
  for (const [i, sse] of streams.entries()) {
    let view = foldSse(null, [openings[i]!, ...(await readAll(sse))]);
    if (view!.seq < final.seq) {
      resumed++;
      const rest = new SseReader(await fetch(`${nginx.url}/jobs/${job.id}/events`, { headers: { 'last-event-id': String(view!.seq) } }));
      view = foldSse(view, await readAll(rest));
    }
    assert.deepEqual(view, final, 'the SSE fold is the final snapshot');
  }
  assert.equal(resumed, 1, 'the stream on the killed process resumed');
  assert.equal(await holder.exited, 'SIGKILL');
});

interface Upgrade {
  status: number;
  /** The JSON error body of a refusal, or null. */
  code: string | null;
  socket: Socket;
}

/** A WebSocket upgrade through `port` from `localAddress`; the socket stays open after a 101 (closed after the test). */
function upgrade(t: TestContext, port: number, localAddress: string): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.write(
        'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
    });
    t.after(() => socket.destroy());
    let data = '';
    const settle = (): void => {
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return;
      const status = Number(data.split(' ')[1]);
      if (status === 101) return resolve({ status, code: null, socket });
      const length = Number(/content-length: *(\d+)/i.exec(data.slice(0, end))?.[1] ?? 0);
      if (data.length < end + 4 + length) return;
      socket.off('data', onData);
      resolve({ status, code: (JSON.parse(data.slice(end + 4, end + 4 + length)) as { error: { code: string } }).error.code, socket });
    };
    const onData = (chunk: Buffer): void => {
      data += chunk.toString('latin1');
      settle();
    };
    socket.on('data', onData);
    socket.on('error', () => {});
    socket.once('close', () => reject(new Error(`closed before an answer: ${data}`)));
  });
}

/** GET `path` through `port` from `localAddress`; resolves with the status. */
function getFrom(port: number, localAddress: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode!));
    });
    req.once('error', reject);
    req.end();
  });
}

/** One jobcast process (sqlite store) with `args`, behind nginx. */
async function behindNginx(t: TestContext, args: string[]): Promise<{ server: JobcastProcess; port: number }> {
  const dir = await tempDir(t, 'jobcast-nginx-cap-');
  await mkdir(join(dir, 'spool'));
  const server = await spawnJobcast(t, 'serve', ['--store', `sqlite:${join(dir, 'jobcast.db')}`, '--spool-dir', join(dir, 'spool'), '--processor-dir', FIXTURE_PROCESSORS, ...args]);
  const nginx = await startNginx(t, [new URL(server.url).host]);
  return { server, port: nginx.port };
}

/** Distinct client addresses (Linux routes all of 127.0.0.0/8 to the loopback). */
const CLIENTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'];

test('through nginx without --trust-proxy: every client has nginx\'s address, so a few clients fill --max-connections-per-ip', { skip: NGINX_SKIP }, async (t) => {
  const { server, port } = await behindNginx(t, ['--max-connections-per-ip', '3']);
  assert.equal(await getFrom(port, '127.0.0.5', '/jobs/no-such-job'), 404);
  const line = await server.waitForLog((l) => l.msg === 'request' && l.path === '/jobs/no-such-job', 'the request');
  assert.equal(line.remoteAddress, '127.0.0.1', 'the log names nginx, not the client');
  const answers: Upgrade[] = [];
  for (const client of CLIENTS) answers.push(await upgrade(t, port, client));
  const opened = answers.filter((a) => a.status === 101).length;
  assert.ok(opened <= 3, `at most 3 of 6 different clients got in: ${answers.map((a) => a.status).join(', ')}`);
  assert.ok(answers.some((a) => a.status === 503 && a.code === 'too_many_connections'), 'the others were refused as one address');
});

test('through nginx with --trust-proxy: each client is counted, and logged, as itself', { skip: NGINX_SKIP }, async (t) => {
  const { server, port } = await behindNginx(t, ['--max-connections-per-ip', '3', '--trust-proxy', '127.0.0.1']);
  for (const client of CLIENTS) assert.equal((await upgrade(t, port, client)).status, 101, `a WebSocket of ${client}`);
  // The cap holds per client: 127.0.0.2 has one and may open two more, not three.
  assert.equal((await upgrade(t, port, '127.0.0.2')).status, 101);
  assert.equal((await upgrade(t, port, '127.0.0.2')).status, 101);
  const over = await upgrade(t, port, '127.0.0.2');
  assert.deepEqual([over.status, over.code], [503, 'too_many_connections'], 'the fourth of one client');
  assert.equal((await upgrade(t, port, '127.0.0.8')).status, 101, 'a new client still gets in');
  assert.equal(await getFrom(port, '127.0.0.5', '/jobs/no-such-job'), 404);
  const line = await server.waitForLog((l) => l.msg === 'request' && l.path === '/jobs/no-such-job', 'the request');
  assert.equal(line.remoteAddress, '127.0.0.5', 'the log names the client');
  const refusal = await server.waitForLog((l) => l.msg.includes('--max-connections-per-ip'), 'the refusal warning');
  assert.equal(refusal.remoteAddress, '127.0.0.2');
});

test('the README shows deploy/nginx/jobcast.conf as it is: the configuration tested is the one documented', async () => {
  const [readme, site] = await Promise.all([readFile(join(REPO_ROOT, 'README.md'), 'utf8'), readFile(NGINX_SITE, 'utf8')]);
  assert.ok(readme.includes(`\`\`\`nginx\n${site}\`\`\``), 'the README has the file in an nginx block, unchanged');
});
