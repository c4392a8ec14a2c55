// The readiness probe shared by `/readyz` and uploads: can the store be written and
// does the spool have room?

import { isDiskFull, JobcastError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { Spool } from '../spool/spool.js';

/**
 * How long uploads trust the last readiness check (1 s). Within it an upload costs no
 * extra I/O; past it the next upload checks again (one store write, one spool write),
 * so a broken store or a full spool turns uploads away within a second, before their
 * bodies are read, and a repaired one takes them again within a second.
 */
export const READINESS_TTL_MS = 1000;

/** `Retry-After` of a 503 not_ready, in seconds: a few TTLs, time for an operator's fix to show. */
const RETRY_AFTER_S = '5';

/** What the last readiness check found. */
export interface ReadinessState {
  /** Null when the store took a write and read it back; else why not. */
  storeProblem: string | null;
  /** Null when a file could be written in the spool; else the file system's error code. */
  spoolProblem: string | null;
}

export interface ReadinessProbeOptions {
  store: Store;
  spool: Spool;
  logger: Logger;
  /** Default READINESS_TTL_MS. */
  ttlMs?: number;
}

/**
 * Whether the store and the spool can take writes, for `GET /readyz` (always checked
 * afresh) and for `POST /jobs` (checked at most once per `ttlMs`, and marked failed at
 * once when a store write fails). Logs each change of state.
 */
export class ReadinessProbe {
  private readonly ttlMs: number;
  private last: { atMs: number; state: ReadinessState } | null = null;
  private checking: Promise<ReadinessState> | null = null;

  constructor(private readonly opts: ReadinessProbeOptions) {
    this.ttlMs = opts.ttlMs ?? READINESS_TTL_MS;
  }

  /** Checks both now; callers that arrive during a check share it. */
  check(): Promise<ReadinessState> {
    this.checking ??= this.runCheck().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  /**
   * Rejects before an upload's body is read: 503 `not_ready` when the store or the spool
   * cannot be written, 507 `insufficient_storage` when the spool disk is full (SPEC 2.1).
   */
  async assertUploadable(): Promise<void> {
    const last = this.last;
    const isFresh = last !== null && performance.now() - last.atMs < this.ttlMs;
    const state = isFresh ? last.state : await this.check();
    if (state.storeProblem !== null) throw notReady(`the store cannot take a job (${state.storeProblem}); retry later`);
    if (isDiskFull(state.spoolProblem)) throw new JobcastError('insufficient_storage');
    if (state.spoolProblem !== null) throw notReady(`the spool cannot be written (${state.spoolProblem}); retry later`);
  }

  /**
   * A store write failed: uploads are refused until a check, at most `ttlMs` later,
   * passes. Returns the error to answer the upload that found out.
   */
  storeFailed(problem: string): JobcastError {
    this.record({ storeProblem: problem, spoolProblem: this.last?.state.spoolProblem ?? null });
    return notReady(`the store cannot take a job (${problem}); retry later`);
  }

  private async runCheck(): Promise<ReadinessState> {
    const [storeProblem, spoolProblem] = await Promise.all([
      this.opts.store.ping().then(
        () => null,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      ),
      this.opts.spool.probeWritable().then(
        () => null,
        (error: unknown) => String((error as NodeJS.ErrnoException | null)?.code ?? error),
      ),
    ]);
    const state = { storeProblem, spoolProblem };
    this.record(state);
    return state;
  }

  private record(state: ReadinessState): void {
    const before = this.last?.state;
    this.last = { atMs: performance.now(), state };
    const wasReady = before === undefined || (before.storeProblem === null && before.spoolProblem === null);
    const isReady = state.storeProblem === null && state.spoolProblem === null;
    if (wasReady && !isReady) this.opts.logger.warn(state, 'not ready: uploads are refused');
    else if (!wasReady && isReady) this.opts.logger.info('ready again: uploads are accepted');
  }
}

function notReady(message: string): JobcastError {
  return new JobcastError('not_ready', message, { 'retry-after': RETRY_AFTER_S });
}
