// What both fan-out servers (jobcast and the bare `ws` baseline) have in common: the
// job they stream, the event payloads (so both put identical bytes on the wire), the
// producer's pacing, and how memory and CPU are read. Runs inside the server children.
import { performance } from 'node:perf_hooks';
/** The one job every client watches; 21 characters like a nanoid. */
export const JOB_ID = 'benchFanout_00000001x';
/** jobcast gives seq 1-3 to job.queued, job.started, file.started; the bare server starts at the same seq. */
export const FIRST_PROGRESS_SEQ = 4;
const FILE_SIZE = 1_000_000_000;
/** The `file.progress` data for `seq`, a pure function of it: the same in both servers. */
export function progressData(seq) {
    const done = Math.min(FILE_SIZE, seq * 65_536);
    return {
        file: 0,
        done,
        total: FILE_SIZE,
        fraction: done / FILE_SIZE,
        rate: 123_456_789.5,
        etaMs: Math.round(((FILE_SIZE - done) / 123_456_789.5) * 1000),
        jobEtaMs: Math.round(((FILE_SIZE - done) / 123_456_789.5) * 1000),
    };
}
/** The file of the benchmark job, as job.queued names it. */
export const BENCH_FILE = { index: 0, name: 'fanout.bin', size: FILE_SIZE, type: 'application/octet-stream' };
/**
 * The commands every server child answers: `mem`, `mark`, `usage`, `produce`.
 * `emit` sends one event to every subscriber; `connections` counts open sockets.
 */
export function serverHandlers(emit, connections, startSeq) {
    let nextSeq = startSeq;
    let mark = { cpu: process.cpuUsage(), elu: performance.eventLoopUtilization(), at: performance.now() };
    return {
        mem: () => {
            forceGc();
            const m = process.memoryUsage();
            return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, connections: connections() };
        },
        mark: () => {
            mark = { cpu: process.cpuUsage(), elu: performance.eventLoopUtilization(), at: performance.now() };
            return null;
        },
        usage: () => {
            const cpu = process.cpuUsage(mark.cpu);
            const elu = performance.eventLoopUtilization(mark.elu);
            return { cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, elu: elu.utilization, wallMs: performance.now() - mark.at };
        },
        produce: async ({ count, intervalMs }) => {
            const firstSendAt = Date.now();
            for (let i = 0; i < count; i++) {
                await emit(nextSeq++);
                await pace(firstSendAt, i + 1, intervalMs);
            }
            return { firstSendAt, lastSendAt: Date.now(), nextSeq };
        },
    };
}
/** Waits until event `sent` is due (drift-free), or one turn of the event loop when back to back. */
function pace(startAt, sent, intervalMs) {
    if (intervalMs === 0)
        return new Promise((resolve) => setImmediate(resolve));
    const dueIn = startAt + sent * intervalMs - Date.now();
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, dueIn)));
}
/** Two full collections: the first may leave garbage that finalizers release for the second. */
function forceGc() {
    const gc = globalThis.gc;
    if (gc === undefined)
        throw new Error('the server child needs --expose-gc');
    gc();
    gc();
}
//# sourceMappingURL=shared.js.map