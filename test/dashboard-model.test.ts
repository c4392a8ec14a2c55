// The dashboard's pure parts, without a browser: how the job list merges the live view
// with pages of GET /jobs, filters and orders them; the work meter behind the
// throughput chart; the duration percentiles and buckets; the processes of GET /queue.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUCKET_EDGES_MS, bucketOf, bucketPosition, percentile, summariseDurations } from '../client-demo/src/dashboard/durations.js';
import { JobList } from '../client-demo/src/dashboard/job-list.js';
import { JobFiguresTable, WorkMeter } from '../client-demo/src/dashboard/live-figures.js';
import { isReporting, ownerOf, ownersOf, readProcesses } from '../client-demo/src/dashboard/processes.js';
import { applyEvent } from '../server/protocol/reducer.js';
import type { JobEvent, JobStatus, ProcessInfo, Snapshot } from '../server/protocol/types.js';

let seqs = 0;
function job(id: string, status: JobStatus, extra: Partial<Snapshot> = {}): Snapshot {
  const queued = applyEvent(null, {
    type: 'event',
    job: id,
    seq: 1,
    ts: 1000,
    name: 'job.queued',
    data: { processor: 'sha256', label: null, failFast: false, files: [{ index: 0, name: `${id}.csv`, size: 1000, type: 'text/csv' }], position: 1 },
  });
  return { ...queued, status, seq: ++seqs, queuePosition: status === 'queued' ? 1 : null, ...extra };
}

test('the list merges live and paged copies by seq, filters like the server, and orders running, queued, then newest', () => {
  const list = new JobList();
  list.setLive('r2', job('r2', 'running', { startedAt: 20 }));
  list.setLive('r1', job('r1', 'running', { startedAt: 10 }));
  list.setLive('q2', job('q2', 'queued', { queuePosition: 2 }));
  list.setLive('q1', job('q1', 'queued', { queuePosition: 1 }));
  list.setLive('new', job('new', 'completed', { createdAt: 300 }));
  list.addPaged([job('old', 'failed', { createdAt: 100, label: 'Quarterly Report' }), job('mid', 'cancelled', { createdAt: 200 })]);
  assert.deepEqual(list.ids(), ['r1', 'r2', 'q1', 'q2', 'new', 'mid', 'old']);

  // An older paged copy never hides a newer live one, and the reverse.
  const stale = { ...list.get('r1')!, seq: 0, status: 'queued' as const };
  list.addPaged([stale]);
  assert.equal(list.get('r1')!.status, 'running');

  list.setFilter({ status: 'active', q: '' });
  assert.deepEqual(list.ids(), ['r1', 'r2', 'q1', 'q2']);
  list.setFilter({ status: 'all', q: '  QUARTERLY ' });
  assert.deepEqual(list.ids(), ['old']);
  list.setFilter({ status: 'all', q: 'mid.CSV' });
  assert.deepEqual(list.ids(), ['mid']);
  list.setFilter({ status: 'failed', q: '' });
  assert.deepEqual(list.ids(), ['old']);

  // A job dropped by a later catch-up stays listed as last seen; counts are over the live view.
  list.setFilter({ status: 'all', q: '' });
  assert.equal(list.setLive('new', null), false);
  assert.ok(list.ids().includes('new'));
  assert.deepEqual(list.liveCounts(), { queued: 2, running: 2, oldestQueuedAt: 1000 });
  assert.equal(list.setLive('q1', job('q1', 'running', { startedAt: 30 })), true, 'a status change moves the job');
  assert.deepEqual(list.ids().slice(0, 4), ['r1', 'r2', 'q1', 'q2']);
});

test('the work meter counts bytes and files from events only, never negative work', () => {
  const meter = new WorkMeter();
  const figures = new JobFiguresTable();
  const before = job('w', 'running');
  const progress = (done: number, seq: number): JobEvent => ({
    type: 'event',
    job: 'w',
    seq,
    ts: 2000,
    name: 'file.progress',
    data: { file: 0, done, total: 4000, fraction: done / 4000, rate: 2000, etaMs: 1000, jobEtaMs: 1500 },
  });
  const half = applyEvent(before, progress(2000, before.seq + 1));
  meter.onChange(before, half, progress(2000, before.seq + 1));
  figures.onChange(half, progress(2000, before.seq + 1), 10_000);
  // Units of 4000 per 1000-byte file: 2000 units/s is 500 bytes/s.
  assert.deepEqual(figures.get('w'), { bytesPerSecond: 500, jobEtaMs: 1500, receivedAt: 10_000 });
  assert.equal(figures.etaMs('w', 10_400), 1100, 'the ETA counts down');
  const back = applyEvent(half, progress(1000, half.seq + 1));
  meter.onChange(half, back, progress(1000, half.seq + 1));
  meter.onChange(undefined, back, undefined);
  const done: JobEvent = { type: 'event', job: 'w', seq: back.seq + 1, ts: 3000, name: 'file.completed', data: { file: 0, durationMs: 5, result: null, output: false } };
  meter.onChange(back, applyEvent(back, done), done);
  assert.deepEqual(meter.take(), { bytes: 500 + 750, files: 1 });
  assert.deepEqual(meter.take(), { bytes: 0, files: 0 });
});

test('durations: nearest-rank percentiles over the most recent completed jobs, log buckets', () => {
  assert.equal(percentile([], 0.5), null);
  assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
  assert.equal(percentile([1, 2, 3, 4], 0.95), 4);
  assert.equal(bucketOf(5), 0);
  assert.equal(bucketOf(10), 0);
  assert.equal(bucketOf(20), 1);
  assert.equal(bucketOf(1e9), BUCKET_EDGES_MS.length - 1);
  assert.ok(bucketPosition(1000) === 6 && bucketPosition(1414) > 6.4 && bucketPosition(1414) < 6.6);
  const jobs = [100, 200, 300, 400, 10_000].map((ms, i) => job(`d${i}`, 'completed', { startedAt: 0, finishedAt: ms }));
  jobs.push(job('f', 'failed', { startedAt: 0, finishedAt: 99_999 }));
  const summary = summariseDurations(jobs);
  assert.deepEqual([summary.count, summary.p50Ms, summary.p95Ms], [5, 300, 10_000]);
  assert.equal(summary.counts.reduce((a, b) => a + b, 0), 5);
});

function proc(name: string, extra: Partial<ProcessInfo> = {}): ProcessInfo {
  return {
    id: `box:1:server:${name}`,
    role: 'server',
    host: 'box',
    pid: 1,
    jobs: [],
    workersBusy: 0,
    workers: 2,
    concurrency: 1,
    startedAt: 0,
    lastHeartbeatAt: 10_000,
    heartbeatMs: 1000,
    ...extra,
  };
}

test('processes: what GET /queue lists is read defensively, a process silent for two heartbeats is not reporting, the latest heartbeat owns a job', () => {
  assert.equal(readProcesses(undefined), null, 'no list: no panel');
  assert.deepEqual(readProcesses([proc('a'), { id: 'half' }, null, 3]), [proc('a')], 'malformed entries are left out');

  const p = proc('a');
  assert.equal(isReporting(p, 12_000), true, 'two heartbeats late is still reporting');
  assert.equal(isReporting(p, 12_001), false, 'past two heartbeats it has stopped reporting');

  // A takeover: the old owner's report still lists the job until it expires.
  const old = proc('old', { pid: 7, jobs: ['j1', 'j2'], lastHeartbeatAt: 5000, role: 'worker' });
  const taker = proc('taker', { pid: 8, jobs: ['j1'], lastHeartbeatAt: 9000 });
  const owners = ownersOf([old, taker]);
  assert.equal(owners.get('j1'), taker);
  assert.equal(owners.get('j2'), old);
  assert.deepEqual(ownerOf(old, 9000), {
    text: 'on box/7, not reporting',
    title: 'running on worker box/7 (box:1:server:old), not reporting',
    isReporting: false,
  });
  assert.equal(ownerOf(taker, 9000).text, 'on box/8');
});
