// The cluster benchmark's end-to-end measures, on real `jobcast` processes started with the
// test suite's cluster helpers: tiny jobs per second (upload, queue, claim, process,
// complete, answer), and the time from `kill -9` of a job's owner to the takeover.

import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { spawnJobcast, startCluster, type Cluster, type JobcastProcess } from '../../test/helpers/cluster.js';
import { createJob } from '../../test/helpers/http.js';
import { probeRecords } from '../../test/helpers/probe.js';
import type { RedisServer } from '../../test/helpers/redis.js';
import { preciseNow } from './shared.js';

/** Settings of every process here: each process's own share of the machine. */
const PROCESS_ARGS = ['--concurrency', '8', '--workers', '2', '--progress-interval', '100ms', '--max-queued-jobs', '100000'];

/** A jobcast process on a SQLite file of its own. */
export async function startSqliteServer(): Promise<{ server: JobcastProcess; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'jobcast-bench-sqlite-'));
  const server = await spawnJobcast(null, 'serve', ['--store', `sqlite:${join(dir, 'jobcast.db')}`, '--spool-dir', join(dir, 'spool'), ...PROCESS_ARGS]);
  return {
    server,
    async stop() {
      await server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `count` server processes on `redis` (the cluster helpers' start, with a 10 s lease: the default). */
export function startRedisServers(redis: RedisServer, count: number): Promise<Cluster> {
  return startCluster(null, { servers: count, redis, lease: '10s', args: PROCESS_ARGS });
}

export async function stopCluster(cluster: Cluster): Promise<void> {
  await Promise.all(cluster.all.map((p) => p.kill('SIGKILL')));
}

export interface TinyJobsFigures {
  jobsPerSecond: number;
  completed: number;
  notCompleted: number;
  /** Upload to final answer, per job. */
  p50Ms: number;
  p99Ms: number;
}

/**
 * `concurrency` clients, each uploading a one-file job of 1 KiB (sha256) and waiting for
 * its end (`POST /jobs?wait=60`: the answer is the final snapshot), then the next; the
 * uploads go to the servers in turn. After a 2 s warm-up, for `ms`.
 */
export async function measureTinyJobs(urls: string[], ms: number, concurrency: number): Promise<TinyJobsFigures> {
  const body = new Uint8Array(1024).fill(97);
  let turn = 0;
  const run = async (until: number, durations: number[] | null): Promise<{ completed: number; other: number }> => {
    let completed = 0;
    let other = 0;
    const client = async (): Promise<void> => {
      while (performance.now() < until) {
        const form = new FormData();
        form.append('file', new Blob([body]), 'tiny.txt');
        const started = performance.now();
        const res = await fetch(`${urls[turn++ % urls.length]}/jobs?wait=60`, { method: 'POST', body: form });
        const snapshot = (await res.json()) as { status?: string };
        if (res.status === 200 && snapshot.status === 'completed') {
          completed++;
          durations?.push(performance.now() - started);
        } else other++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, client));
    return { completed, other };
  };
  await run(performance.now() + 2000, null);
  const durations: number[] = [];
  const started = performance.now();
  const { completed, other } = await run(started + ms, durations);
  const seconds = (performance.now() - started) / 1000;
  durations.sort((a, b) => a - b);
  const at = (q: number): number => Math.round(durations[Math.min(durations.length - 1, Math.ceil(q * durations.length) - 1)] ?? NaN);
  return { jobsPerSecond: Math.round(completed / seconds), completed, notCompleted: other, p50Ms: at(0.5), p99Ms: at(0.99) };
}

export interface TakeoverFigures {
  leaseMs: number;
  /** The documented bound: 1.2 leases. */
  boundMs: number;
  /** From kill -9 of the owner to `job.requeued` (reason takeover) at a subscriber of another process. */
  requeuedMs: number[];
  /** From kill -9 to the unfinished file's `file.started` under its new owner. */
  restartedMs: number[];
}

/**
 * `rounds` times: a two-file job held mid-file (the probe processor), its owner found from
 * the probe's record, killed with SIGKILL at a random moment of its renewal cycle, and the
 * takeover timed at a WebSocket subscriber of another process. A new process replaces each one killed.
 */
export async function measureTakeover(cluster: Cluster, rounds: number): Promise<TakeoverFigures> {
  const leaseMs = 10_000;
  const requeuedMs: number[] = [];
  const restartedMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const record = join(cluster.dir, `record-${round}.txt`);
    const release = join(cluster.dir, `release-${round}`);
    const entry = cluster.servers[0]!;
    const job = await createJob(entry.url, [{ name: 'a', content: 'a' }, { name: 'b', content: 'b' }], { processor: 'probe', options: JSON.stringify({ release, record }) });
    let ownerPid: number | undefined;
    while (ownerPid === undefined) {
      ownerPid = (await probeRecords(record)).find((r) => r.what === 'start')?.pid;
      await sleep(20);
    }
    const owner = cluster.servers.find((s) => s.pid === ownerPid)!;
    const observer = cluster.servers.find((s) => s !== owner)!;
    const seen = watchTakeover(observer.url, job.id);
    await seen.subscribed;
    // Anywhere in the owner's renewal cycle (a renewal every third of the lease).
    await sleep(Math.random() * (leaseMs / 3));
    const killedAt = preciseNow();
    await owner.kill('SIGKILL');
    const { requeuedAt, restartedAt } = await seen.done;
    requeuedMs.push(Math.round(requeuedAt - killedAt));
    restartedMs.push(Math.round(restartedAt - killedAt));
    await writeFile(release, '');
    seen.close();
    cluster.servers.splice(cluster.servers.indexOf(owner), 1);
    await cluster.addServer();
  }
  return { leaseMs, boundMs: leaseMs * 1.2, requeuedMs, restartedMs };
}

/** A subscriber of `job` that notes when its takeover's requeue and the restart of its file arrive. */
function watchTakeover(url: string, job: string) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { perMessageDeflate: false });
  let requeuedAt = 0;
  let subscribed!: () => void;
  let done!: (times: { requeuedAt: number; restartedAt: number }) => void;
  const result = {
    subscribed: new Promise<void>((resolve) => (subscribed = resolve)),
    done: new Promise<{ requeuedAt: number; restartedAt: number }>((resolve) => (done = resolve)),
    close: () => ws.terminate(),
  };
  ws.once('open', () => ws.send(JSON.stringify({ op: 'subscribe', job })));
  ws.on('message', (data: Buffer) => {
    const now = preciseNow();
    const message = JSON.parse(data.toString()) as { type: string; name?: string; data?: { reason?: string } };
    if (message.type === 'subscribed') subscribed();
    if (message.type !== 'event') return;
    if (message.name === 'job.requeued' && message.data?.reason === 'takeover') requeuedAt = now;
    else if (message.name === 'file.started' && requeuedAt > 0) done({ requeuedAt, restartedAt: now });
  });
  return result;
}
