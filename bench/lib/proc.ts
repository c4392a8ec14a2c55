// A process seen from outside, through /proc (Linux): its CPU time, all threads included
// (V8's GC helpers, libuv's pool, a native engine's own threads), and its open-file limit.
// Measuring from outside needs nothing from the process, so every server under test is
// measured the same way whatever it runs on.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of utime/stime (USER_HZ); 100 on every Linux this runs on, asked once. */
const TICKS_PER_SECOND = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time of process `pid` so far, in ms (10 ms resolution); null when it cannot be read. */
export function processCpuMs(pid: number): number | null {
  return readStat(`/proc/${pid}/stat`)?.cpuMs ?? null;
}

/**
 * CPU time so far of each kind of thread of process `pid`, in ms: `main` (the event loop),
 * and the others by their name (`V8 DefaultWorke` are V8's GC and compiler helpers,
 * `libuv-worker` the thread pool, `node` a worker thread...). Threads that ended are not counted.
 */
export function threadsCpuMs(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const stat = readStat(`/proc/${pid}/task/${tid}/stat`);
    if (stat === null) continue;
    const name = Number(tid) === pid ? 'main' : stat.name;
    out[name] = (out[name] ?? 0) + stat.cpuMs;
  }
  return out;
}

function readStat(path: string): { name: string; cpuMs: number } | null {
  let stat: string;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may hold spaces; after it, state is field 3,
  // utime field 14, stime field 15 (proc(5)).
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? { name: stat.slice(stat.indexOf('(') + 1, close), cpuMs: (ticks * 1000) / TICKS_PER_SECOND } : null;
}

/** The open-file limits (soft, hard) of process `pid`; null when they cannot be read. */
export function openFilesLimit(pid: number | 'self'): { soft: number; hard: number } | null {
  try {
    const match = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    if (match === null) return null;
    const n = (s: string): number => (s === 'unlimited' ? Infinity : Number(s));
    return { soft: n(match[1]!), hard: n(match[2]!) };
  } catch {
    return null;
  }
}

/**
 * Raises the soft open-file limit of process `pid` to what it needs, up to its hard
 * limit (which an unprivileged process may do: prlimit(1)). Returns the soft limit it has
 * afterwards, or null when unknown.
 */
export function raiseOpenFiles(pid: number, needed: number): number | null {
  const limit = openFilesLimit(pid);
  if (limit === null || limit.soft >= needed || limit.soft >= limit.hard) return limit?.soft ?? null;
  const soft = Math.min(limit.hard, Math.max(needed, limit.soft));
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${soft}:${limit.hard === Infinity ? 'unlimited' : limit.hard}`]);
  } catch {
    // No prlimit: the process keeps its limit, and the connect step reports what failed.
  }
  return openFilesLimit(pid)?.soft ?? null;
}
