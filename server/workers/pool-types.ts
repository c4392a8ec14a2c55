// What the job runner asks of the processor pool, and what it gets back.

import type { ErrorInfo } from '../protocol/types.js';

/** The file as a processor sees it (SPEC 4). */
export interface ProcessorFile {
  path: string;
  name: string;
  size: number;
  type: string;
  index: number;
}

export interface RunFileRequest {
  /** A registered processor name. */
  processor: string;
  file: ProcessorFile;
  /** The job's `options` object, passed as ctx.options. */
  options: Record<string, unknown>;
  /** Where the processor may write an output file (ctx.outputPath). */
  outputPath: string;
  /** For ctx.log lines. */
  jobId: string;
  /** Aborting it aborts ctx.signal in the worker; a processor that ignores it is stopped by terminating its thread. */
  signal: AbortSignal;
  /** --file-timeout; null for none. */
  timeoutMs: number | null;
  /**
   * Latest progress, already throttled to --progress-interval by the worker. `total` null
   * when the processor gave none; `ts` is when the worker sent it, the `ts` its event must
   * carry (consecutive ones are at least --progress-interval apart).
   */
  onProgress(done: number, total: number | null, ts: number): void;
}

export type RunFileOutcome =
  | { ok: true; result: unknown; durationMs: number; output: boolean }
  | { ok: false; error: ErrorInfo; durationMs: number; aborted: boolean };
