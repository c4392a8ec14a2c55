// The piscina worker entry: runs one processor on one file (SPEC 4).
//
// Everything the processor throws or rejects with becomes a `processor_error` result
// here, so on the main thread a rejected piscina task always means that the thread
// died (process.exit, an uncaught exception from a stray callback, a native crash) or
// was terminated by the pool.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { isPoolMessage } from './messages.js';
/** Longest ctx.log line passed on; a processor logging a whole file must not flood the server log. */
const MAX_LOG_CHARS = 8 * 1024;
const STOP_MESSAGES = {
    cancelled: 'the job was cancelled or the server is shutting down',
    timeout: 'the processor exceeded --file-timeout',
};
/** Runs `task.file` through the processor at `task.modulePath`; never rejects for anything the processor does. */
export default async function runFile(task) {
    const session = openSession(task);
    post(task.port, { type: 'started' });
    let processor;
    try {
        processor = await loadProcessor(task.modulePath);
    }
    catch (err) {
        session.end();
        return failure(`cannot load the processor: ${describeError(err)}`, 0);
    }
    const startedAt = performance.now();
    let value;
    try {
        value = await processor(task.file, session.ctx);
    }
    catch (err) {
        return failure(describeError(err), performance.now() - startedAt);
    }
    finally {
        // Nothing pending is sent once the processor has returned: completion implies fraction 1.
        session.end();
    }
    return toResult(value, performance.now() - startedAt);
}
function openSession(task) {
    const { port } = task;
    const controller = new AbortController();
    const portOnMessage = (message) => {
        if (isPoolMessage(message))
            controller.abort(abortError(STOP_MESSAGES[message.reason]));
    };
    port.on('message', portOnMessage);
    const reporter = createProgressReporter(port, task.progressIntervalMs);
    let isEnded = false;
    let hasWarnedProgress = false;
    const ctx = Object.freeze({
        progress(done, total) {
            if (isEnded)
                return;
            if (isAmount(done) && (total === undefined || total === null || isAmount(total))) {
                reporter.report(done, total ?? null);
            }
            else if (!hasWarnedProgress) {
                // Throwing here could crash the thread from inside a stream callback; drop the
                // value and say so once instead.
                hasWarnedProgress = true;
                post(port, { type: 'log', message: `ctx.progress ignored (${String(done)}, ${String(total)}): use non-negative finite numbers` });
            }
        },
        signal: controller.signal,
        options: task.options,
        outputPath: task.outputPath,
        log(message) {
            if (!isEnded)
                post(port, { type: 'log', message: String(message).slice(0, MAX_LOG_CHARS) });
        },
    });
    return {
        ctx,
        end() {
            isEnded = true;
            reporter.end();
            // The pool closes the port once it has drained it; closing it here could drop
            // messages the pool has not read yet.
            port.off('message', portOnMessage);
        },
    };
}
/**
 * At most one message per `intervalMs`: the first value goes out at once, later ones
 * wait for the interval and only the latest survives (trailing). A value superseded
 * before its turn is never sent.
 *
 * This is the one throttle of progress (SPEC 3.2: "throttled where it is produced"), and
 * it stamps each message with the `ts` its event will carry. The spacing is promised on
 * the events' `ts`: stamping on the main thread instead, when the message is read, would
 * let a busy main loop read two messages back to back and give them `ts` closer than the
 * interval. Date.now() is the clock of every other `ts` (same process, same clock), and
 * whole milliseconds, so the check below is exactly the one a client can make.
 */
function createProgressReporter(port, intervalMs) {
    let lastTs = -Infinity;
    let pending = null;
    let timer = null;
    /** Ms until the next message may go out; 0 when it may go now. */
    const waitMs = (now) => {
        const sinceLastMs = now - lastTs;
        // A wall clock set back would otherwise hold progress until it catches up.
        return sinceLastMs >= intervalMs || sinceLastMs < 0 ? 0 : intervalMs - sinceLastMs;
    };
    const send = (value, ts) => {
        lastTs = ts;
        post(port, { type: 'progress', done: value.done, total: value.total, ts });
    };
    const cancelTimer = () => {
        if (timer !== null)
            clearTimeout(timer);
        timer = null;
    };
    const timerOnFire = () => {
        timer = null;
        if (pending === null)
            return;
        const now = Date.now();
        const leftMs = waitMs(now);
        // Timers run on the loop's cached clock, which may lag Date.now() at the time the timer
        // was set: it can fire a little early by Date.now(). Then it waits out the rest.
        if (leftMs > 0) {
            timer = setTimeout(timerOnFire, leftMs);
            return;
        }
        const value = pending;
        pending = null;
        send(value, now);
    };
    return {
        report(done, total) {
            const now = Date.now();
            const leftMs = waitMs(now);
            if (leftMs === 0) {
                // Also the path for synchronous CPU-bound processors, whose timers cannot fire
                // until they yield: their progress still goes out once per interval.
                cancelTimer();
                pending = null;
                send({ done, total }, now);
                return;
            }
            pending = { done, total };
            timer ??= setTimeout(timerOnFire, leftMs);
        },
        end() {
            pending = null;
            cancelTimer();
        },
    };
}
// One import per module per thread. ESM caches modules itself, but keeping the
// resolved function also skips re-checking the export shape on every file.
const processors = new Map();
function loadProcessor(path) {
    let loading = processors.get(path);
    if (loading === undefined) {
        loading = import(pathToFileURL(path).href).then((namespace) => pickProcessor(namespace, path));
        processors.set(path, loading);
        loading.catch(() => processors.delete(path));
    }
    return loading;
}
/** ESM `export default fn`, CommonJS `module.exports = fn`, or CommonJS compiled from TypeScript (`exports.default = fn`). */
function pickProcessor(namespace, path) {
    const first = namespace?.default;
    if (typeof first === 'function')
        return first;
    const second = first?.default;
    if (typeof second === 'function')
        return second;
    throw new Error(`${path} has no default export function: write \`export default async function (file, ctx) { ... }\``);
}
/** Checks the result survives JSON, and returns it as JSON will store it. */
function toResult(value, durationMs) {
    // A processor that returns nothing has the result null (JSON has no undefined).
    if (value === undefined)
        return { ok: true, result: null, durationMs };
    let text;
    try {
        text = JSON.stringify(value);
    }
    catch (err) {
        return failure(`the processor's result is not JSON-serialisable: ${describeError(err)}`, durationMs);
    }
    if (text === undefined) {
        return failure(`the processor's result is not JSON-serialisable: got a ${typeof value}`, durationMs);
    }
    return { ok: true, result: JSON.parse(text), durationMs };
}
function failure(message, durationMs) {
    return { ok: false, error: { code: 'processor_error', message }, durationMs };
}
function describeError(err) {
    try {
        if (err instanceof Error)
            return err.message || err.name || 'the processor threw an error without a message';
        return String(err);
    }
    catch {
        return 'the processor threw a value that cannot be described';
    }
}
function abortError(message) {
    const error = new Error(message);
    error.name = 'AbortError';
    return error;
}
function isAmount(value) {
    return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
function post(port, message) {
    port.postMessage(message);
}
//# sourceMappingURL=worker.js.map