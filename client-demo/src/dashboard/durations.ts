// How long recent jobs took: percentiles and a histogram over log-spaced buckets
// (job times span milliseconds to hours), from the completed jobs the page knows. No DOM.

import type { Snapshot } from '../../../server/protocol/types.js';

/** Jobs the distribution is taken over: the most recently finished ones. */
export const RECENT_JOBS = 500;

/** Bucket edges in ms, 1-2-5 steps from 10 ms to 2 hours; the last bucket takes everything above. */
export const BUCKET_EDGES_MS = [10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6];

export interface DurationSummary {
  /** How many jobs the figures are over. */
  count: number;
  p50Ms: number | null;
  p95Ms: number | null;
  /** Jobs per bucket: counts[i] holds durations in [edges[i], edges[i + 1]); the first also takes shorter ones. */
  counts: number[];
}

/** The wall time of a completed job from its start to its end (a requeued job counts from its last start). */
export function jobDurationMs(snapshot: Snapshot): number | null {
  if (snapshot.status !== 'completed' || snapshot.startedAt === null || snapshot.finishedAt === null) return null;
  return Math.max(0, snapshot.finishedAt - snapshot.startedAt);
}

export function summariseDurations(jobs: Iterable<Snapshot>): DurationSummary {
  const recent: Array<{ finishedAt: number; ms: number }> = [];
  for (const snapshot of jobs) {
    const ms = jobDurationMs(snapshot);
    if (ms !== null) recent.push({ finishedAt: snapshot.finishedAt!, ms });
  }
  recent.sort((a, b) => b.finishedAt - a.finishedAt);
  const durations = recent.slice(0, RECENT_JOBS).map((r) => r.ms);
  const counts = BUCKET_EDGES_MS.map(() => 0);
  for (const ms of durations) counts[bucketOf(ms)]!++;
  durations.sort((a, b) => a - b);
  return { count: durations.length, p50Ms: percentile(durations, 0.5), p95Ms: percentile(durations, 0.95), counts };
}

/** The bucket a duration falls in. */
export function bucketOf(ms: number): number {
  let i = 0;
  while (i + 1 < BUCKET_EDGES_MS.length && ms >= BUCKET_EDGES_MS[i + 1]!) i++;
  return i;
}

/** Nearest-rank percentile of sorted values; null when there are none. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Where a duration sits on the histogram's x axis, in buckets (bucket i spans i..i+1),
 * interpolated on the log scale inside its bucket: for the p50 and p95 markers.
 */
export function bucketPosition(ms: number): number {
  const i = bucketOf(ms);
  const low = BUCKET_EDGES_MS[i]!;
  const high = BUCKET_EDGES_MS[i + 1] ?? low * 2;
  const within = ms <= low ? 0 : Math.min(1, Math.log(ms / low) / Math.log(high / low));
  return i + within;
}
