// The job state machine around the queue: create, start (up to --concurrency at
// once), cancel, delete, recover after a restart, and stop at shutdown.
import { readFile, writeFile } from 'node:fs/promises';
import { JobcastError } from '../errors.js';
import { isFinalStatus } from '../protocol/types.js';
import { JobLog } from './job-log.js';
import { JobQueue } from './job-queue.js';
import { runJob, RunningJob } from './job-runner.js';
import { PositionNotifier } from './position-notifier.js';
/** While the store cannot be written, it is tried this often; no job starts meanwhile. */
const STORE_RETRY_MS = 1000;
export class JobService {
    opts;
    log;
    queue;
    positions;
    running = new Map();
    isClosing = false;
    closing = null;
    /**
     * Set while the store cannot be written (see holdForStore): the timer that tries it
     * again, and the jobs it stopped mid-run, back in the queue but still `running` in the
     * store, which get `job.requeued` once it works.
     */
    storeFault = null;
    constructor(opts) {
        this.opts = opts;
        this.log = new JobLog(opts.store, opts.bus);
        this.queue = new JobQueue(() => this.positions.schedule());
        this.positions = new PositionNotifier(this.queue, opts.bus, opts.progressIntervalMs);
    }
    /**
     * Recovers after a stop (SPEC 1): jobs that were running go back to the queue with
     * `job.requeued` (reason "restart") in their creation order, then processing starts.
     */
    async start() {
        const { store } = this.opts;
        const ids = await store.idsByStatus(['queued', 'running']);
        for (const id of ids) {
            const snapshot = await store.getSnapshot(id);
            if (snapshot === null)
                continue;
            const position = this.queue.add(id, snapshot.createdAt);
            if (snapshot.status === 'running') {
                await this.log.append(id, { name: 'job.requeued', data: { reason: 'restart', position } });
            }
            this.positions.remember(id, position);
        }
        if (ids.length > 0)
            this.opts.logger.info({ waiting: ids.length }, 'queue recovered from the store');
        this.pump();
    }
    /** Rejects with queue_full (and Retry-After) when --max-queued-jobs jobs already wait. */
    assertRoomInQueue() {
        if (this.queue.size >= this.opts.maxQueuedJobs) {
            throw new JobcastError('queue_full', undefined, { 'retry-after': String(this.retryAfterSeconds()) });
        }
    }
    /** Rejects with shutting_down once close() has begun. */
    assertOpen() {
        if (this.isClosing)
            throw new JobcastError('shutting_down', undefined, { 'retry-after': '5' });
    }
    /** Queues a job whose files are on the spool; resolves with its first snapshot. */
    async create(job) {
        this.assertOpen();
        this.assertRoomInQueue();
        // The options travel with the files: a job recovered after a restart needs them too.
        await writeFile(this.optionsPath(job.id), JSON.stringify(job.options));
        const position = this.queue.size + 1;
        const snapshot = await this.log.create(job.id, {
            name: 'job.queued',
            data: { processor: job.processor, label: job.label, failFast: job.failFast, files: job.files, position },
        });
        this.queue.add(job.id, snapshot.createdAt);
        this.positions.remember(job.id, this.queue.position(job.id));
        // Read before pump() may take the job out of the queue: a job about to start is
        // still `queued`, at position 1, until its job.started.
        const created = this.withPosition(snapshot);
        this.pump();
        return created;
    }
    /** The job's snapshot with its current queue position; rejects job_not_found. */
    async get(id) {
        const snapshot = await this.opts.store.getSnapshot(id);
        if (snapshot === null)
            throw new JobcastError('job_not_found');
        return this.withPosition(snapshot);
    }
    /** The snapshot with the live queue position, which events do not carry (SPEC 3.2). */
    withPosition(snapshot) {
        const position = snapshot.status === 'queued' ? this.queue.position(snapshot.id) : null;
        return position === snapshot.queuePosition ? snapshot : { ...snapshot, queuePosition: position };
    }
    /** Cancels a queued or running job (SPEC 1); rejects job_finished for a finished one. */
    async cancel(id) {
        const snapshot = await this.get(id);
        if (isFinalStatus(snapshot.status))
            throw new JobcastError('job_finished');
        const entry = this.running.get(id);
        const now = Date.now();
        if (entry !== undefined) {
            entry.job.stop('cancel');
            const durationMs = now - (snapshot.startedAt ?? now);
            return this.log.append(id, { name: 'job.cancelled', data: { durationMs } });
        }
        if (!this.queue.remove(id))
            throw new JobcastError('job_finished');
        this.storeFault?.stopped.delete(id);
        return this.log.append(id, { name: 'job.cancelled', data: { durationMs: now - snapshot.createdAt } });
    }
    /** Forgets a finished job and deletes its files; rejects job_active for a queued or running one. */
    async delete(id) {
        const snapshot = await this.get(id);
        if (!isFinalStatus(snapshot.status))
            throw new JobcastError('job_active');
        await this.forget(id);
    }
    /** Removes a finished job's record and files (DELETE and --retention). */
    async forget(id) {
        await this.opts.store.delete(id);
        await this.opts.files.removeJob(id);
        this.opts.bus.emit('deleted', id);
    }
    /** Resolves with the final snapshot once the job ends, or null after `timeoutMs`. */
    waitForEnd(id, timeoutMs) {
        return new Promise((resolve, reject) => {
            const onEvent = (_event, snapshot) => {
                if (snapshot.id === id && isFinalStatus(snapshot.status))
                    finish(snapshot);
            };
            const timer = setTimeout(() => finish(null), timeoutMs);
            const finish = (value) => {
                clearTimeout(timer);
                this.opts.bus.off('event', onEvent);
                resolve(value);
            };
            // Listen first, then look: an end between the two cannot be missed.
            this.opts.bus.on('event', onEvent);
            this.get(id).then((s) => isFinalStatus(s.status) && finish(s), reject);
        });
    }
    /** `GET /queue`. */
    stats() {
        const oldest = this.queue.oldestEnqueuedAt();
        return {
            queued: this.queue.size,
            running: this.running.size,
            concurrency: this.opts.concurrency,
            oldestQueuedMs: oldest === null ? null : Math.max(0, Date.now() - oldest),
        };
    }
    /**
     * Graceful stop (SPEC 7): start nothing new, let running files finish for up to
     * `graceMs`, stop the rest, and put their jobs back with `job.requeued` (reason
     * "shutdown"). Safe to call twice: every caller gets the same promise.
     */
    close(graceMs) {
        this.closing ??= this.stopRunning(graceMs);
        return this.closing;
    }
    async stopRunning(graceMs) {
        this.isClosing = true;
        // Jobs stopped by a store fault stay `running` in the store: the next start requeues them.
        if (this.storeFault !== null)
            clearInterval(this.storeFault.timer);
        for (const { job } of this.running.values())
            job.stopAfterFile = true;
        const all = Promise.all([...this.running.values()].map((r) => r.done));
        let timer;
        const graceOver = new Promise((resolve) => (timer = setTimeout(resolve, graceMs)));
        await Promise.race([all, graceOver]);
        clearTimeout(timer);
        for (const { job } of this.running.values())
            job.stop('shutdown');
        await all;
        this.positions.close();
    }
    /** Starts queued jobs while fewer than --concurrency run. */
    pump() {
        while (!this.isClosing && this.storeFault === null && this.running.size < this.opts.concurrency) {
            const next = this.queue.shift();
            if (next === undefined)
                return;
            const job = new RunningJob(next.id, next.order);
            const done = this.run(job).finally(() => {
                this.running.delete(job.id);
                this.pump();
            });
            this.running.set(job.id, { job, done });
        }
    }
    async run(job) {
        try {
            const outcome = await runJob(this.runnerDeps(), job);
            if (outcome === 'stopped' && job.stopReason !== 'cancel') {
                // Shutdown: the job goes back in its place, to continue at the next start.
                const position = this.queue.putBack(job.id, job.order);
                await this.log.append(job.id, { name: 'job.requeued', data: { reason: 'shutdown', position } });
            }
            else if (outcome === 'stopped') {
                // A cancel whose job.cancelled could not be stored (the caller got the error)
                // leaves the job `running` there: it is handled as a store fault.
                const stored = await this.opts.store.getSnapshot(job.id);
                if (stored !== null && !isFinalStatus(stored.status)) {
                    await this.afterRunError(job, new Error('the job was stopped for a cancel that could not be stored'));
                }
            }
        }
        catch (err) {
            await this.afterRunError(job, err);
        }
    }
    /**
     * runJob rejects only when an event could not be stored. If the store takes writes
     * (a fault of this job alone), the job fails with `internal_error`. If it does not
     * (its disk is full, its file unwritable), the job goes back to its place in the
     * queue and processing pauses until the store works again: then the job gets
     * `job.requeued` (reason "store") and continues from its first unfinished file.
     */
    async afterRunError(job, err) {
        const { store, logger } = this.opts;
        const snapshot = await store.getSnapshot(job.id).catch(() => null);
        // Cancelled meanwhile, or (at shutdown) left `running` for the next start to requeue.
        if (snapshot === null || isFinalStatus(snapshot.status) || this.isClosing) {
            logger.error({ job: job.id, err }, 'job stopped by an error');
            return;
        }
        const storeWorks = await store.ping().then(() => true, () => false);
        if (storeWorks) {
            logger.error({ job: job.id, err }, 'job failed on an unexpected error');
            const error = { code: 'internal_error', message: 'the server failed while running this job; see its log' };
            const durationMs = Date.now() - (snapshot.startedAt ?? Date.now());
            const failed = await this.log.append(job.id, { name: 'job.failed', data: { durationMs, error } }).then(() => true, () => false);
            if (failed)
                return;
        }
        logger.error({ job: job.id, err }, 'the store cannot be written: the job waits in the queue and no job starts until it can');
        this.queue.putBack(job.id, job.order);
        this.holdForStore();
        // A job whose job.started could not be stored is still `queued` there: no requeue event.
        if (snapshot.status === 'running')
            this.storeFault.stopped.add(job.id);
    }
    /** Pauses processing until the store takes writes again (see afterRunError). */
    holdForStore() {
        if (this.storeFault !== null)
            return;
        const timer = setInterval(() => void this.tryStore(), STORE_RETRY_MS);
        timer.unref();
        this.storeFault = { timer, stopped: new Set(), isTrying: false };
    }
    /** Once the store works: requeues the jobs the fault stopped, in queue order, and starts processing again. */
    async tryStore() {
        const fault = this.storeFault;
        if (fault === null || fault.isTrying || this.isClosing)
            return;
        fault.isTrying = true;
        try {
            await this.opts.store.ping();
            const waiting = [...fault.stopped].map((id) => ({ id, position: this.queue.position(id) }));
            waiting.sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
            for (const { id, position } of waiting) {
                if (position !== null)
                    await this.log.append(id, { name: 'job.requeued', data: { reason: 'store', position } });
                fault.stopped.delete(id);
            }
        }
        catch {
            return; // Still failing: the timer tries again.
        }
        finally {
            fault.isTrying = false;
        }
        clearInterval(fault.timer);
        this.storeFault = null;
        this.opts.logger.info('the store takes writes again: processing resumes');
        this.pump();
    }
    runnerDeps() {
        const { files, pool, isProcessor, fileTimeoutMs, logger } = this.opts;
        return {
            log: this.log,
            pool,
            paths: files,
            isProcessor,
            fileTimeoutMs,
            logger,
            readOptions: (id) => this.readOptions(id),
        };
    }
    optionsPath(id) {
        return `${this.opts.files.jobDir(id)}/options.json`;
    }
    async readOptions(id) {
        try {
            return JSON.parse(await readFile(this.optionsPath(id), 'utf8'));
        }
        catch {
            return {};
        }
    }
    /** A hint for clients refused with queue_full: about one job's worth of waiting. */
    retryAfterSeconds() {
        return 5;
    }
}
//# sourceMappingURL=job-service.js.map