// Runs one job: its files one after another in upload order (SPEC 1), each in the
// worker pool, turning what the pool reports into the job's events.
/** A job that has left the queue; the service holds it to cancel or stop it. */
export class RunningJob {
    id;
    order;
    controller = new AbortController();
    /** Set when the job must stop now: cancelled, or a shutdown whose grace ran out. */
    stopReason = null;
    /** Set at shutdown: finish the current file, start no other. */
    stopAfterFile = false;
    constructor(id, 
    /** Creation order, to put the job back in its place if it is stopped. */
    order) {
        this.id = id;
        this.order = order;
    }
    /** Stops the job: aborts the running processor through its AbortSignal. */
    stop(reason) {
        if (this.stopReason !== null)
            return;
        this.stopReason = reason;
        this.controller.abort(new Error(reason === 'cancel' ? 'job cancelled' : 'server shutting down'));
    }
}
/**
 * Runs the job to its end. Resolves 'finished' after the job's final event, or
 * 'stopped' when it was stopped (a cancel has already logged job.cancelled; after a
 * shutdown stop the caller logs job.requeued). Finished files are skipped, so a
 * requeued job continues from its first unfinished file.
 */
export async function runJob(deps, job) {
    const { log, logger } = deps;
    const runStartedAt = Date.now();
    // Called before the first await: job.started is ordered before any cancel of this job.
    let snapshot = await log.append(job.id, { name: 'job.started', data: {}, ts: runStartedAt });
    if (job.stopReason !== null)
        return 'stopped';
    if (!deps.isProcessor(snapshot.processor)) {
        const error = { code: 'unknown_processor', message: `processor '${snapshot.processor}' is no longer registered` };
        await log.append(job.id, { name: 'job.failed', data: { durationMs: Date.now() - runStartedAt, error } });
        return 'finished';
    }
    const options = await deps.readOptions(job.id);
    const eta = new JobEta(snapshot, runStartedAt);
    let failed = 0;
    for (const file of snapshot.files) {
        if (file.status !== 'pending')
            continue;
        if (job.stopReason !== null || job.stopAfterFile)
            return 'stopped';
        const outcome = await runFile(deps, job, snapshot, file, options, eta);
        if (job.stopReason !== null)
            return 'stopped';
        if (outcome.ok) {
            const { durationMs, result, output } = outcome;
            snapshot = await log.append(job.id, { name: 'file.completed', data: { file: file.index, durationMs, result, output } });
            eta.fileDone(file);
            continue;
        }
        failed++;
        const { durationMs, error } = outcome;
        snapshot = await log.append(job.id, { name: 'file.failed', data: { file: file.index, durationMs, error } });
        logger.info({ job: job.id, file: file.index, code: error.code }, `file failed: ${error.message}`);
        if (snapshot.failFast) {
            const jobError = { code: 'files_failed', message: `file ${file.index} (${file.name}) failed: ${error.message}` };
            await log.append(job.id, { name: 'job.failed', data: { durationMs: Date.now() - runStartedAt, error: jobError } });
            return 'finished';
        }
        eta.fileDone(file);
    }
    const durationMs = Date.now() - runStartedAt;
    const end = failed === 0
        ? { name: 'job.completed', data: { durationMs } }
        : {
            name: 'job.failed',
            data: { durationMs, error: { code: 'files_failed', message: `${failed} of ${snapshot.files.length} files failed` } },
        };
    await log.append(job.id, end);
    return 'finished';
}
async function runFile(deps, job, snapshot, file, options, eta) {
    const fileStartedAt = Date.now();
    await deps.log.append(job.id, { name: 'file.started', data: { file: file.index }, ts: fileStartedAt });
    let isSettled = false;
    let hasLostProgress = false;
    const onProgress = (done, total, ts) => {
        // Nothing after the file's end or the job's stop: transitions close the file.
        if (isSettled || job.stopReason !== null)
            return;
        const data = progressData(file, done, total ?? file.total, fileStartedAt, eta, ts);
        // The worker's `ts`, not the time of this append: the worker spaced the messages on it (SPEC 3.2).
        deps.log.append(job.id, { name: 'file.progress', data, ts }).catch((err) => {
            // Once per file: a store that cannot be written would otherwise log every report.
            if (hasLostProgress)
                return;
            hasLostProgress = true;
            deps.logger.warn({ job: job.id, file: file.index, err }, 'could not store a progress event; further failures for this file are not logged');
        });
    };
    try {
        return await deps.pool.run({
            processor: snapshot.processor,
            file: { path: deps.paths.inputPath(job.id, file.index), name: file.name, size: file.size, type: file.type, index: file.index },
            options,
            outputPath: deps.paths.outputPath(job.id, file.index),
            jobId: job.id,
            signal: job.controller.signal,
            timeoutMs: deps.fileTimeoutMs,
            onProgress,
        });
    }
    finally {
        isSettled = true;
    }
}
function progressData(file, done, total, fileStartedAt, eta, now) {
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
    runStartedAt;
    bytesDone = 0;
    sizes;
    isPending;
    constructor(snapshot, runStartedAt) {
        this.runStartedAt = runStartedAt;
        this.sizes = snapshot.files.map((f) => Math.max(f.size, 1));
        this.isPending = snapshot.files.map((f) => f.status === 'pending');
    }
    fileDone(file) {
        this.bytesDone += this.sizes[file.index];
        this.isPending[file.index] = false;
    }
    jobEtaMs(file, fraction, now) {
        const size = this.sizes[file.index];
        const processed = this.bytesDone + size * fraction;
        const elapsedMs = now - this.runStartedAt;
        if (processed <= 0 || elapsedMs <= 0)
            return null;
        let remaining = size * (1 - fraction);
        for (let i = file.index + 1; i < this.sizes.length; i++)
            if (this.isPending[i])
                remaining += this.sizes[i];
        return Math.round((remaining / processed) * elapsedMs);
    }
}
function round2(n) {
    return Math.round(n * 100) / 100;
}
//# sourceMappingURL=job-runner.js.map