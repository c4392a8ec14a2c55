// Hand-made events of one small job, for tests that feed the client SDK directly.
const FILES = [{ index: 0, name: 'a.txt', size: 10, type: 'text/plain' }];
/** The six events of a one-file job that completes: seq 1 job.queued ... seq 6 job.completed. */
export function jobEvents(job = 'job1') {
    const e = (seq, rest) => ({ type: 'event', job, seq, ts: 1000 + seq, ...rest });
    return [
        e(1, { name: 'job.queued', data: { processor: 'p', label: null, failFast: false, files: FILES, position: 2 } }),
        e(2, { name: 'job.started', data: {} }),
        e(3, { name: 'file.started', data: { file: 0 } }),
        e(4, { name: 'file.progress', data: { file: 0, done: 5, total: 10, fraction: 0.5, rate: null, etaMs: null, jobEtaMs: null } }),
        e(5, { name: 'file.completed', data: { file: 0, durationMs: 4, result: { ok: true }, output: false } }),
        e(6, { name: 'job.completed', data: { durationMs: 5 } }),
    ];
}
//# sourceMappingURL=sdk-events.js.map