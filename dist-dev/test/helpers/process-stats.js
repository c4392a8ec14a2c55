// What leak checks measure in the test process: open descriptors and the heap after a GC.
import { readdir, readlink } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
/** Entries of /proc/self/fd: all, sockets, and (when `dir` is given) files under `dir`. */
export async function fdCounts(dir) {
    const entries = await readdir('/proc/self/fd');
    const targets = await Promise.all(entries.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
    return {
        total: entries.length,
        sockets: targets.filter((target) => target.startsWith('socket:')).length,
        under: dir === undefined ? 0 : targets.filter((target) => target.startsWith(dir)).length,
    };
}
/** The V8 collector: global.gc when node runs with --expose-gc, else switched on now. */
export function findGc() {
    const exposed = globalThis.gc;
    if (typeof exposed === 'function')
        return { gc: exposed, how: 'global.gc' };
    try {
        setFlagsFromString('--expose-gc');
        return { gc: runInNewContext('gc'), how: 'v8.setFlagsFromString(--expose-gc)' };
    }
    catch {
        return { gc: null, how: 'none' };
    }
}
export function heapAfterGc(gc) {
    gc?.();
    gc?.();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return { heapUsed, arrayBuffers };
}
//# sourceMappingURL=process-stats.js.map