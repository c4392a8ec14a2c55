// Reconnect delays: exponential backoff with full jitter. Each delay is drawn
// uniformly from [0, min(maxMs, initialMs * 2^attempt)), so a thousand tabs dropped
// by one server restart do not all come back in the same millisecond (the "full
// jitter" of the AWS architecture blog's backoff comparison).
/** The defaults of BackoffOptions. */
export const BACKOFF_DEFAULTS = Object.freeze({ initialMs: 250, maxMs: 10_000, random: Math.random });
/** Past this exponent the ceiling is maxMs anyway; it keeps 2^attempt finite. */
const MAX_EXPONENT = 30;
/** Checks backoff options and fills in the defaults; throws a TypeError naming the bad field. */
export function resolveBackoffOptions(options = {}) {
    const resolved = { ...BACKOFF_DEFAULTS, ...withoutUndefined(options) };
    if (typeof resolved.initialMs !== 'number' || !Number.isFinite(resolved.initialMs) || resolved.initialMs <= 0) {
        throw new TypeError(`backoff.initialMs must be a number of milliseconds above 0, got ${String(resolved.initialMs)}`);
    }
    if (typeof resolved.maxMs !== 'number' || !Number.isFinite(resolved.maxMs) || resolved.maxMs <= 0) {
        throw new TypeError(`backoff.maxMs must be a number of milliseconds above 0, got ${String(resolved.maxMs)}`);
    }
    if (resolved.maxMs < resolved.initialMs) {
        throw new TypeError(`backoff.maxMs (${resolved.maxMs}) must be at least backoff.initialMs (${resolved.initialMs})`);
    }
    if (typeof resolved.random !== 'function')
        throw new TypeError('backoff.random must be a function returning a number in [0, 1)');
    return Object.freeze(resolved);
}
/** Counts failed attempts and hands out the delay before the next one. */
export class Backoff {
    options;
    attempts = 0;
    /** Throws a TypeError for options that cannot work (see resolveBackoffOptions). */
    constructor(options = {}) {
        this.options = resolveBackoffOptions(options);
    }
    /** Delays handed out since the last reset(). */
    get attempt() {
        return this.attempts;
    }
    /** The largest delay the next call to next() can return. */
    ceilingMs() {
        const { initialMs, maxMs } = this.options;
        return Math.min(maxMs, initialMs * 2 ** Math.min(this.attempts, MAX_EXPONENT));
    }
    /** The delay before the next attempt, in whole ms in [0, ceiling); counts the attempt. */
    next() {
        const ceiling = this.ceilingMs();
        this.attempts++;
        // Clamped so that a random() returning exactly 1 (or garbage) still stays under the ceiling.
        const drawn = this.options.random();
        const r = Number.isFinite(drawn) ? Math.min(Math.max(drawn, 0), 1) : 0;
        return Math.min(Math.floor(r * ceiling), Math.max(0, Math.ceil(ceiling) - 1));
    }
    /** Starts over from initialMs (after a connection that worked). */
    reset() {
        this.attempts = 0;
    }
}
function withoutUndefined(options) {
    return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
//# sourceMappingURL=backoff.js.map