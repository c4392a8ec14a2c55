// The processes of `GET /queue`, read for the dashboard: which ones still report, what a
// process is called on the page, and which process runs each job. No DOM here.

import type { ProcessInfo } from '../../../server/protocol/types.js';

/** The entries of `reported` (the `processes` field, whatever it holds) that are processes; null when it is not a list. */
export function readProcesses(reported: unknown): ProcessInfo[] | null {
  return Array.isArray(reported) ? reported.filter(isProcessInfo) : null;
}

function isProcessInfo(value: unknown): value is ProcessInfo {
  const p = value as Partial<ProcessInfo> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.id === 'string' &&
    (p.role === 'server' || p.role === 'worker') &&
    typeof p.host === 'string' &&
    typeof p.pid === 'number' &&
    Array.isArray(p.jobs) &&
    p.jobs.every((job) => typeof job === 'string') &&
    typeof p.workersBusy === 'number' &&
    typeof p.workers === 'number' &&
    typeof p.concurrency === 'number' &&
    typeof p.lastHeartbeatAt === 'number' &&
    typeof p.heartbeatMs === 'number'
  );
}

/** `host/pid`: what a person knows a process by (the id adds a random part). */
export function processName(p: ProcessInfo): string {
  return `${p.host}/${p.pid}`;
}

/**
 * False once the process had missed two heartbeats at `answeredAt` (when `GET /queue`
 * answered, on the server's clock): it is listed until its report expires (--lease), and
 * may be dead, hung, or cut off from the store. Judged at the answer, not now: between
 * two answers every heartbeat looks older than it is.
 */
export function isReporting(p: ProcessInfo, answeredAt: number): boolean {
  return answeredAt - p.lastHeartbeatAt <= 2 * p.heartbeatMs;
}

/**
 * The process running each job. After a takeover the old owner may still list the job
 * until its report expires: the latest heartbeat wins.
 */
export function ownersOf(processes: readonly ProcessInfo[]): Map<string, ProcessInfo> {
  const owners = new Map<string, ProcessInfo>();
  for (const p of processes) {
    for (const job of p.jobs) {
      const known = owners.get(job);
      if (known === undefined || known.lastHeartbeatAt < p.lastHeartbeatAt) owners.set(job, p);
    }
  }
  return owners;
}

/** What a running job's row says of the process that runs it. */
export interface Owner {
  /** "on web-2/4242", with ", not reporting" when it stopped reporting. */
  text: string;
  /** The same with its role and id: "running on worker web-2/4242 (web-2:4242:worker:1f2e3d4c)". */
  title: string;
  isReporting: boolean;
}

export function ownerOf(p: ProcessInfo, answeredAt: number): Owner {
  const isUp = isReporting(p, answeredAt);
  const silence = isUp ? '' : ', not reporting';
  return { text: `on ${processName(p)}${silence}`, title: `running on ${p.role} ${processName(p)} (${p.id})${silence}`, isReporting: isUp };
}
