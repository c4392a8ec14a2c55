// Runs one job: its files one after another in upload order (SPEC 1), each in the
// worker pool, turning what the pool reports into the job's events. Every append carries
// the claim's fence token: once the job has another owner (or was cancelled elsewhere),
// the store refuses it and the run stops at once, writing nothing more.

import type { Logger } from '../logger.js';
import type { FileState, NewEvent, Snapshot } from '../protocol/types.js';
import type { Claim } from '../queue/queue.js';
import type { JobFiles } from '../spool/job-files.js';
import { isFencedError } from '../store/store.js';
import type { RunFileOutcome, RunFileRequest } from '../workers/pool-types.js';
import type { JobLog } from './job-log.js';

/** What the runner needs from the rest of the server. */
export interface RunnerDeps {
  log: JobLog;
  pool: { run(request: RunFileRequest): Promise<RunFileOutcome> };
  files: Pick<JobFiles, 'inputPath' | 'readOptions' | 'claimOutputPath' | 'clearClaimOutputs' | 'publishOutput' | 'recoverOutput'>;
  isProcessor(name: string): boolean;
  fileTimeoutMs: number | null;
  logger: Logger;
}

/** Why a run stopped before the job's end. */
export type StopReason = 'cancel' | 'shutdown' | 'fenced';

const STOP_MESSAGES: Record<StopReason, string> = {
  cancel: 'job cancelled',
  shutdown: 'server shutting down',
  fenced: 'the job has another owner now',
};

/** A claimed job; the scheduler holds it to cancel or stop it. */
export class RunningJob {
  readonly controller = new AbortController();
  /** Set when the job must stop now: cancelled, a shutdown whose grace ran out, or fenced off. */
  stopReason: StopReason | null = null;
  /** Set at shutdown: finish the current file, start no other. */
  stopAfterFile = false;

  constructor(readonly claim: Claim) {}

  get id(): string {
    return this.claim.id;
  }

  /** Stops the job: aborts the running processor through its AbortSignal. */
  stop(reason: StopReason): void {
    if (this.stopReason !== null) return;
    this.stopReason = reason;
    this.controller.abort(new Error(STOP_MESSAGES[reason]));
  }

  /** Appends an event of this run, with the claim's fence token. */
  append(log: JobLog, event: NewEvent): Promise<Snapshot> {
    return log.append(this.claim.id, event, { fence: this.claim.fence });
  }
}

/**
 * Runs the job to its end. Resolves 'finished' after the job's final event, or
 * 'stopped' when it was stopped (a cancel has already logged job.cancelled; after a
 * shutdown stop the caller logs job.requeued). Rejects when an event could not be
 * stored, with JobcastError('fenced') when the job has another owner. Finished files
 * are skipped, so a requeued job continues from its first unfinished file.
 */
export async function runJob(deps: RunnerDeps, job: RunningJob): Promise<'finished' | 'stopped'> {
  const { log, logger } = deps;
  const runStartedAt = Date.now();
  // Called before the first await: a cancel that reaches this process from now on comes
  // after job.started. One that came between the claim and now has revoked the fence, and
  // job.started is refused.
  let snapshot = await job.append(log, { name: 'job.started', data: {}, ts: runStartedAt });
  if (job.stopReason !== null) return 'stopped';
  if (!deps.isProcessor(snapshot.processor)) {
    const error = { code: 'unknown_processor', message: `processor '${snapshot.processor}' is no longer registered` };
    await job.append(log, { name: 'job.failed', data: { durationMs: Date.now() - runStartedAt, error } });
    return 'finished';
  }
  const options = await deps.files.readOptions(job.id);
  // A process that died between storing a file's completion and publishing its output.
  for (const file of snapshot.files) if (file.status === 'done' && file.output) await deps.files.recoverOutput(job.id, file.index);
  const eta = new JobEta(snapshot, runStartedAt);
  let failed = 0;
  for (const file of snapshot.files) {
    if (file.status !== 'pending') continue;
    if (job.stopReason !== null || job.stopAfterFile) return 'stopped';
    const outcome = await runFile(deps, job, snapshot, file, options, eta);
    if (job.stopReason !== null) return 'stopped';
    if (outcome.ok) {
      const { durationMs, result, output } = outcome;
      snapshot = await job.append(log, { name: 'file.completed', data: { file: file.index, durationMs, result, output } });
      // Only now, with the completion stored under this claim's token (runFile).
      if (output) await deps.files.publishOutput(job.id, file.index, job.claim.fence);
      eta.fileDone(file);
      continue;
    }
    failed++;
    const { durationMs, error } = outcome;
    snapshot = await job.append(log, { name: 'file.failed', data: { file: file.index, durationMs, error } });
    logger.info({ job: job.id, file: file.index, code: error.code }, `file failed: ${error.message}`);
    if (snapshot.failFast) {
      const jobError = { code: 'files_failed', message: `file ${file.index} (${file.name}) failed: ${error.message}` };
      await job.append(log, { name: 'job.failed', data: { durationMs: Date.now() - runStartedAt, error: jobError } });
      return 'finished';
    }
    eta.fileDone(file);
  }
  const durationMs = Date.now() - runStartedAt;
  const end: NewEvent =
    failed === 0
      ? { name: 'job.completed', data: { durationMs } }
      : {
          name: 'job.failed',
          data: { durationMs, error: { code: 'files_failed', message: `${failed} of ${snapshot.files.length} files failed` } },
        };
  await job.append(log, end);
  return 'finished';
}

async function runFile(
  deps: RunnerDeps,
  job: RunningJob,
  snapshot: Snapshot,
  file: FileState,
  options: Record<string, unknown>,
  eta: JobEta,
): Promise<RunFileOutcome> {
  // What earlier claims left of this file's output (a run that died or lost the job mid-file).
  await deps.files.clearClaimOutputs(job.id, file.index);
  const fileStartedAt = Date.now();
  await job.append(deps.log, { name: 'file.started', data: { file: file.index }, ts: fileStartedAt });
  let isSettled = false;
  let hasLostProgress = false;
  const onProgress = (done: number, total: number | null, ts: number): void => {
    // Nothing after the file's end or the job's stop: transitions close the file.
    if (isSettled || job.stopReason !== null) return;
    const data = progressData(file, done, total ?? file.total, fileStartedAt, eta, ts);
    // The worker's `ts`, not the time of this append: the worker spaced the messages on it (SPEC 3.2).
    job.append(deps.log, { name: 'file.progress', data, ts }).catch((err: unknown) => {
      // Another owner has the job: stop the processor now, not at the next transition.
      if (isFencedError(err)) return job.stop('fenced');
      // Once per file: a store that cannot be written would otherwise log every report.
      if (hasLostProgress) return;
      hasLostProgress = true;
      deps.logger.warn({ job: job.id, file: file.index, err }, 'could not store a progress event; further failures for this file are not logged');
    });
  };
  try {
    return await deps.pool.run({
      processor: snapshot.processor,
      file: { path: deps.files.inputPath(job.id, file.index), name: file.name, size: file.size, type: file.type, index: file.index },
      options,
      // A path of this claim alone: a run that lost the job never writes over the new owner's output.
      outputPath: deps.files.claimOutputPath(job.id, file.index, job.claim.fence),
      jobId: job.id,
      signal: job.controller.signal,
      timeoutMs: deps.fileTimeoutMs,
      onProgress,
    });
  } finally {
    isSettled = true;
  }
}

function progressData(file: FileState, done: number, total: number, fileStartedAt: number, eta: JobEta, now: number) {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const elapsedS = (now - fileStartedAt) / 1000;
  const rate = elapsedS > 0 ? round2(done / elapsedS) : null;
  const etaMs = rate !== null && rate > 0 && total >= done ? Math.round(((total - done) / rate) * 1000) : null;
  return { file: file.index, done, total, fraction, rate, etaMs, jobEtaMs: eta.jobEtaMs(file, fraction, now) };
}

/**
 * Time left for the whole job, from the bytes processed since this run started
 * (processors report in their own units, so bytes are the common measure).
 */
class JobEta {
  private bytesDone = 0;
  private readonly sizes: number[];
  private readonly isPending: boolean[];

  constructor(
    snapshot: Snapshot,
    private readonly runStartedAt: number,
  ) {
    this.sizes = snapshot.files.map((f) => Math.max(f.size, 1));
    this.isPending = snapshot.files.map((f) => f.status === 'pending');
  }

  fileDone(file: FileState): void {
    this.bytesDone += this.sizes[file.index]!;
    this.isPending[file.index] = false;
  }

  jobEtaMs(file: FileState, fraction: number, now: number): number | null {
    const size = this.sizes[file.index]!;
    const processed = this.bytesDone + size * fraction;
    const elapsedMs = now - this.runStartedAt;
    if (processed <= 0 || elapsedMs <= 0) return null;
    let remaining = size * (1 - fraction);
    for (let i = file.index + 1; i < this.sizes.length; i++) if (this.isPending[i]) remaining += this.sizes[i]!;
    return Math.round((remaining / processed) * elapsedMs);
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
