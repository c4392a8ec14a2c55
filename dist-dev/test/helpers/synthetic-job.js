// Jobs written straight to the log (store + bus), which the runner never picks up:
// tests drive their events at will (fan-out, slow readers, resume) without a processor.
import { nanoid } from 'nanoid';
/** Creates a running one-file job (seq 3 after job.queued, job.started, file.started); resolves with its id. */
export async function createSyntheticJob(service, size = 1_000_000) {
    const id = nanoid();
    await service.log.create(id, {
        name: 'job.queued',
        data: {
            processor: 'delay',
            label: 'synthetic',
            failFast: false,
            files: [{ index: 0, name: 'synthetic.bin', size, type: 'application/octet-stream' }],
            position: 1,
        },
    });
    // Started at once: a queued job outside the queue would have no live position.
    await service.log.append(id, { name: 'job.started', data: {} });
    await service.log.append(id, { name: 'file.started', data: { file: 0 } });
    return id;
}
/**
 * Appends one `file.progress` event; `padBytes` of filler in its data make it as large
 * as a test needs (the reducer ignores unknown fields). Resolves with the snapshot after it.
 */
export function appendProgress(service, id, done, total = 1_000_000, padBytes = 0) {
    const data = { file: 0, done, total, fraction: done / total, rate: null, etaMs: null, jobEtaMs: null, pad: 'x'.repeat(padBytes) };
    return service.log.append(id, { name: 'file.progress', data });
}
/** Ends the job: file.completed then job.completed; resolves with the final snapshot. */
export async function finishSyntheticJob(service, id) {
    await service.log.append(id, { name: 'file.completed', data: { file: 0, durationMs: 5, result: { ok: true }, output: false } });
    return service.log.append(id, { name: 'job.completed', data: { durationMs: 5 } });
}
/** Lets the event loop run I/O (sockets read and write) between two appends. */
export function yieldToIo() {
    return new Promise((resolve) => setImmediate(resolve));
}
//# sourceMappingURL=synthetic-job.js.map