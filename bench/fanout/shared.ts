// What every fan-out server (jobcast on either engine, the bare `ws` and uWS baselines)
// has in common: the job they stream, the event payloads (so all put identical bytes on
// the wire), the producer's pacing, and how memory is read. Runs inside the server children.

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { Handlers } from '../lib/ipc.js';

/** The one job every client watches; 21 characters like a nanoid. */
export const JOB_ID = 'benchFanout_00000001x';
/** jobcast gives seq 1-3 to job.queued, job.started, file.started; the bare server starts at the same seq. */
export const FIRST_PROGRESS_SEQ = 4;
const FILE_SIZE = 1_000_000_000;

/** The `file.progress` data for `seq`, a pure function of it: the same in both servers. */
export function progressData(seq: number) {
  const done = Math.min(FILE_SIZE, seq * 65_536);
  return {
    file: 0,
    done,
    total: FILE_SIZE,
    fraction: done / FILE_SIZE,
    rate: 123_456_789.5,
    etaMs: Math.round(((FILE_SIZE - done) / 123_456_789.5) * 1000),
    jobEtaMs: Math.round(((FILE_SIZE - done) / 123_456_789.5) * 1000),
  };
}

/** The file of the benchmark job, as job.queued names it. */
export const BENCH_FILE = { index: 0, name: 'fanout.bin', size: FILE_SIZE, type: 'application/octet-stream' };

/** Sent up by a server child once it listens. */
export interface ServerReady {
  port: number;
  job: string;
  /** The seq the next event will get. */
  nextSeq: number;
  /** Set when this server cannot run here (jobcast's `--engine uws` before it exists, say): why. */
  unavailable?: string;
}

export interface ProduceArgs {
  count: number;
  /** Time between two events; 0 emits back to back, yielding to I/O (setImmediate) between events. */
  intervalMs: number;
  /** Back to back only: events emitted in one turn of the event loop before yielding. Default 1. */
  perTick?: number;
}

export interface ProduceResult {
  firstSendAt: number;
  lastSendAt: number;
  nextSeq: number;
}

export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Connections the server holds at the time. */
  connections: number;
}

/** Sends the event with `seq` to every subscriber. */
export type EmitOne = (seq: number) => Promise<void> | void;

/**
 * The commands every server child answers: `mem`, `produce`, `profile-start`,
 * `profile-stop`. `emit` sends one event to every subscriber; `connections` counts open
 * sockets. (CPU is read from outside, /proc.)
 */
export function serverHandlers(emit: EmitOne, connections: () => number, startSeq: number): Handlers {
  let nextSeq = startSeq;
  let profiler: Session | null = null;
  return {
    mem: (): MemoryFigures => {
      forceGc();
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, connections: connections() };
    },
    produce: async ({ count, intervalMs, perTick = 1 }: ProduceArgs): Promise<ProduceResult> => {
      const firstSendAt = Date.now();
      for (let i = 0; i < count; i++) {
        await emit(nextSeq++);
        if (intervalMs > 0 || (i + 1) % perTick === 0 || i + 1 === count) await pace(firstSendAt, i + 1, intervalMs);
      }
      return { firstSendAt, lastSendAt: Date.now(), nextSeq };
    },
    // A CPU profile of one phase only (the V8 profiler through the inspector), rather than of
    // the whole process with its connection handshakes.
    'profile-start': async (): Promise<null> => {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      return null;
    },
    'profile-stop': async ({ path }: { path: string }): Promise<null> => {
      if (profiler === null) throw new Error('no profile was started');
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(path, JSON.stringify(profile));
      profiler.disconnect();
      profiler = null;
      return null;
    },
  };
}

/** Waits until event `sent` is due (drift-free), or one turn of the event loop when back to back. */
function pace(startAt: number, sent: number, intervalMs: number): Promise<void> {
  if (intervalMs === 0) return new Promise((resolve) => setImmediate(resolve));
  const dueIn = startAt + sent * intervalMs - Date.now();
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, dueIn)));
}

/** Two full collections: the first may leave garbage that finalizers release for the second. */
function forceGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the server child needs --expose-gc');
  gc();
  gc();
}
