// Built-in `delay`: sleeps in proportion to the file size, with progress (SPEC 4).
// For demos and tests: it makes progress bars move without using CPU.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
const MIB = 1024 * 1024;
/** Longest sleep between two progress reports, so bars move smoothly and aborts land fast. */
const STEP_MS = 20;
/**
 * Sleeps `options.msPerMiB` (default 1000) per MiB of the file, at least
 * `options.minMs` (default 0). Progress in bytes, proportional to the time slept.
 * Returns `{sleptMs}`, the planned sleep rounded to a millisecond. Rejects with an
 * AbortError as soon as ctx.signal aborts.
 */
export default async function delay(file, ctx) {
    const msPerMiB = readOption(ctx.options, 'msPerMiB', 1000);
    const minMs = readOption(ctx.options, 'minMs', 0);
    ctx.signal.throwIfAborted();
    const totalMs = Math.max(minMs, (msPerMiB * file.size) / MIB);
    const startedAt = performance.now();
    for (let elapsedMs = 0; elapsedMs < totalMs; elapsedMs = performance.now() - startedAt) {
        ctx.progress(Math.floor((file.size * elapsedMs) / totalMs), file.size);
        await sleep(Math.min(STEP_MS, totalMs - elapsedMs), undefined, { signal: ctx.signal });
    }
    return { sleptMs: Math.round(totalMs) };
}
function readOption(options, name, fallback) {
    const value = options[name];
    if (value === undefined)
        return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new TypeError(`delay: options.${name} must be a non-negative number of milliseconds, got ${JSON.stringify(value)}`);
    }
    return value;
}
//# sourceMappingURL=delay.js.map