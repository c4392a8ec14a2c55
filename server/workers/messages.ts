// The typed messages between the pool (main thread) and a worker thread.
//
// One task travels through piscina (`WorkerTask` in, `WorkerResult` out). Everything
// that happens while it runs (started, progress, log lines, the abort request) travels
// over a MessagePort created for that task alone, so messages of two tasks can never
// mix and closing the port after the task cleans up every listener on both sides.
//
// Messages on the task port and piscina's result arrive on different ports, and Node
// keeps no order between ports (piscina issue #133). The pool therefore drains the task
// port synchronously when the result arrives; a message posted before the result is
// already in the port's queue by then.

import type { MessagePort } from 'node:worker_threads';
import type { ErrorInfo } from '../protocol/types.js';
import type { ProcessorFile } from './pool-types.js';

/** What the pool hands piscina for one file. */
export interface WorkerTask {
  /** Absolute path of the processor module (registry.pathOf). */
  modulePath: string;
  file: ProcessorFile;
  /** The job's options, given to the processor as ctx.options. */
  options: Record<string, unknown>;
  outputPath: string;
  /** Least time between two progress messages of this task (--progress-interval). */
  progressIntervalMs: number;
  /** The task's own channel: WorkerMessage goes out on it, PoolMessage comes in. */
  port: MessagePort;
}

/** Why the pool asks a processor to stop. */
export type StopReason = 'cancelled' | 'timeout';

/** Pool -> worker, on the task port. */
export type PoolMessage = { type: 'abort'; reason: StopReason };

/** Worker -> pool, on the task port. */
export type WorkerMessage =
  /** The task reached a thread: the --file-timeout clock starts here, not while queued. */
  | { type: 'started' }
  /**
   * Already throttled to progressIntervalMs in the worker; `ts` (Date.now() when it was
   * sent) is the `ts` of its `file.progress` event, on which the spacing is promised.
   */
  | { type: 'progress'; done: number; total: number | null; ts: number }
  | { type: 'log'; message: string };

/** What the worker returns through piscina. Processor failures are values, never rejections. */
export type WorkerResult =
  | { ok: true; result: unknown; durationMs: number }
  | { ok: false; error: ErrorInfo; durationMs: number };

/** Narrows an unknown port message to a WorkerMessage (the pool trusts nothing it has not checked). */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  switch (message['type']) {
    case 'started':
      return true;
    case 'progress':
      return (
        typeof message['done'] === 'number' &&
        (message['total'] === null || typeof message['total'] === 'number') &&
        Number.isSafeInteger(message['ts'])
      );
    case 'log':
      return typeof message['message'] === 'string';
    default:
      return false;
  }
}

/** Narrows an unknown port message to a PoolMessage. */
export function isPoolMessage(value: unknown): value is PoolMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  return message['type'] === 'abort' && (message['reason'] === 'cancelled' || message['reason'] === 'timeout');
}
