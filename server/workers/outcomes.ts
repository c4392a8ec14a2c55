// What both processor pools share: their settings, and the outcomes a stop, a cancel
// or a finished file turn into (SPEC 4).

import { stat } from 'node:fs/promises';
import type { Logger } from '../logger.js';
import type { StopReason } from './messages.js';
import type { RunFileOutcome, RunFileRequest } from './pool-types.js';

/** Settings shared by the thread pool and the command pool. */
export interface PoolSettings {
  /** Most processors running at once, per kind (--workers). No default: config decides. */
  readonly workers: number;
  /** Least time between two progress reports of one file (--progress-interval). */
  readonly progressIntervalMs: number;
  /** Receives ctx.log lines, processors' stderr and the pools' own warnings. */
  readonly logger: Logger;
  /** Time a stopped processor gets to stop by itself before its thread or process group is killed. Default 1000. */
  readonly abortGraceMs: number;
}

const DEFAULT_ABORT_GRACE_MS = 1000;

/** Fills the defaults in and checks each field; throws TypeError naming the one that is invalid. */
export function checkPoolOptions(options: Omit<PoolSettings, 'abortGraceMs'> & { abortGraceMs?: number }): PoolSettings {
  const settings = { ...options, abortGraceMs: options.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS };
  if (!Number.isInteger(settings.workers) || settings.workers < 1) {
    throw new TypeError(`workers must be a whole number of at least 1, got ${String(settings.workers)}`);
  }
  for (const name of ['progressIntervalMs', 'abortGraceMs'] as const) {
    const value = settings[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`${name} must be a non-negative number of milliseconds, got ${String(value)}`);
    }
  }
  return Object.freeze(settings);
}

/** The outcome of a file that was stopped on purpose: a cancel (or shutdown), or --file-timeout. */
export function stopOutcome(reason: StopReason, req: RunFileRequest, durationMs: number): RunFileOutcome {
  if (reason === 'cancelled') {
    return cancelled('the processor was stopped: the job was cancelled or the server is shutting down', durationMs);
  }
  const message = `the processor took longer than --file-timeout (${req.timeoutMs}ms)`;
  return { ok: false, aborted: false, durationMs, error: { code: 'timeout', message } };
}

export function cancelled(message: string, durationMs: number): RunFileOutcome {
  return { ok: false, aborted: true, durationMs, error: { code: 'cancelled', message } };
}

export function failed(code: 'processor_error' | 'worker_crashed', message: string, durationMs: number): RunFileOutcome {
  return { ok: false, aborted: false, durationMs, error: { code, message } };
}

/** Whether the processor left a regular file at `path` (its output). */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
