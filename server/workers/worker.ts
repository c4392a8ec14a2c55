// The piscina worker entry: runs one processor on one file (SPEC 4).
//
// Everything the processor throws or rejects with becomes a `processor_error` result
// here, so on the main thread a rejected piscina task always means that the thread
// died (process.exit, an uncaught exception from a stray callback, a native crash) or
// was terminated by the pool.

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import { isPoolMessage, type StopReason, type WorkerMessage, type WorkerResult, type WorkerTask } from './messages.js';
import type { ProcessorFile } from './pool-types.js';
import { createProgressThrottle } from './progress-throttle.js';

/** The `ctx` a processor receives (SPEC 4). */
export interface ProcessorContext {
  /** Reports progress in any unit; throttled to --progress-interval (on the events' `ts`) before it leaves the thread. */
  progress(done: number, total?: number | null): void;
  /** Aborted when the job is cancelled, the server shuts down or --file-timeout passes. */
  readonly signal: AbortSignal;
  /** The job's `options` object. */
  readonly options: Record<string, unknown>;
  /** Where the processor may write an output file. */
  readonly outputPath: string;
  /** A line in the server log, tagged with the job, the file and the processor. */
  log(message: string): void;
}

/** The default export of a processor module. */
export type Processor = (file: ProcessorFile, ctx: ProcessorContext) => unknown;

/** Longest ctx.log line passed on; a processor logging a whole file must not flood the server log. */
const MAX_LOG_CHARS = 8 * 1024;

const STOP_MESSAGES: Record<StopReason, string> = {
  cancelled: 'the job was cancelled or the server is shutting down',
  timeout: 'the processor exceeded --file-timeout',
};

/** Runs `task.file` through the processor at `task.modulePath`; never rejects for anything the processor does. */
export default async function runFile(task: WorkerTask): Promise<WorkerResult> {
  const session = openSession(task);
  post(task.port, { type: 'started' });
  let processor: Processor;
  try {
    processor = await loadProcessor(task.modulePath);
  } catch (err) {
    session.end();
    return failure(`cannot load the processor: ${describeError(err)}`, 0);
  }
  const startedAt = performance.now();
  let value: unknown;
  try {
    value = await processor(task.file, session.ctx);
  } catch (err) {
    return failure(describeError(err), performance.now() - startedAt);
  } finally {
    // Nothing pending is sent once the processor has returned: completion implies fraction 1.
    session.end();
  }
  return toResult(value, performance.now() - startedAt);
}

interface Session {
  ctx: ProcessorContext;
  /** Stops progress and log messages and the abort listener; later ctx calls are ignored. */
  end(): void;
}

function openSession(task: WorkerTask): Session {
  const { port } = task;
  const controller = new AbortController();
  const portOnMessage = (message: unknown): void => {
    if (isPoolMessage(message)) controller.abort(abortError(STOP_MESSAGES[message.reason]));
  };
  port.on('message', portOnMessage);
  const reporter = createProgressThrottle(task.progressIntervalMs, (done, total, ts) => post(port, { type: 'progress', done, total, ts }));
  let isEnded = false;
  let hasWarnedProgress = false;
  const ctx: ProcessorContext = Object.freeze({
    progress(done: number, total?: number | null): void {
      if (isEnded) return;
      if (isAmount(done) && (total === undefined || total === null || isAmount(total))) {
        reporter.report(done, total ?? null);
      } else if (!hasWarnedProgress) {
        // Throwing here could crash the thread from inside a stream callback; drop the
        // value and say so once instead.
        hasWarnedProgress = true;
        post(port, { type: 'log', message: `ctx.progress ignored (${String(done)}, ${String(total)}): use non-negative finite numbers` });
      }
    },
    signal: controller.signal,
    options: task.options,
    outputPath: task.outputPath,
    log(message: string): void {
      if (!isEnded) post(port, { type: 'log', message: String(message).slice(0, MAX_LOG_CHARS) });
    },
  });
  return {
    ctx,
    end(): void {
      isEnded = true;
      reporter.end();
      // The pool closes the port once it has drained it; closing it here could drop
      // messages the pool has not read yet.
      port.off('message', portOnMessage);
    },
  };
}

// One import per module per thread. ESM caches modules itself, but keeping the
// resolved function also skips re-checking the export shape on every file.
const processors = new Map<string, Promise<Processor>>();

function loadProcessor(path: string): Promise<Processor> {
  let loading = processors.get(path);
  if (loading === undefined) {
    loading = import(pathToFileURL(path).href).then((namespace: unknown) => pickProcessor(namespace, path));
    processors.set(path, loading);
    loading.catch(() => processors.delete(path));
  }
  return loading;
}

/** ESM `export default fn`, CommonJS `module.exports = fn`, or CommonJS compiled from TypeScript (`exports.default = fn`). */
function pickProcessor(namespace: unknown, path: string): Processor {
  const first = (namespace as { default?: unknown } | null)?.default;
  if (typeof first === 'function') return first as Processor;
  const second = (first as { default?: unknown } | null | undefined)?.default;
  if (typeof second === 'function') return second as Processor;
  throw new Error(`${path} has no default export function: write \`export default async function (file, ctx) { ... }\``);
}

/** Checks the result survives JSON, and returns it as JSON will store it. */
function toResult(value: unknown, durationMs: number): WorkerResult {
  // A processor that returns nothing has the result null (JSON has no undefined).
  if (value === undefined) return { ok: true, result: null, durationMs };
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    return failure(`the processor's result is not JSON-serialisable: ${describeError(err)}`, durationMs);
  }
  if (text === undefined) {
    return failure(`the processor's result is not JSON-serialisable: got a ${typeof value}`, durationMs);
  }
  return { ok: true, result: JSON.parse(text) as unknown, durationMs };
}

function failure(message: string, durationMs: number): WorkerResult {
  return { ok: false, error: { code: 'processor_error', message }, durationMs };
}

function describeError(err: unknown): string {
  try {
    if (err instanceof Error) return err.message || err.name || 'the processor threw an error without a message';
    return String(err);
  } catch {
    return 'the processor threw a value that cannot be described';
  }
}

function abortError(message: string): Error {
  const error = new Error(message);
  error.name = 'AbortError';
  return error;
}

function isAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function post(port: MessagePort, message: WorkerMessage): void {
  port.postMessage(message);
}
