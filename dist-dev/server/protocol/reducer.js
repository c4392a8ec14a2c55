// The one reducer (SPEC 3.5): folding a job's events from seq 1 gives its snapshot.
// Pure: it never mutates its input, reads no clock and imports nothing from Node,
// so the server, the client SDK and the demo page all keep their view with it.
/** Returns the snapshot after `event`; `snapshot` is null only for `job.queued`. */
export function applyEvent(snapshot, event) {
    if (event.name === 'job.queued') {
        const files = event.data.files.map((f) => pendingFile(f.index, f.name, f.size, f.type));
        return {
            id: event.job,
            seq: event.seq,
            status: 'queued',
            processor: event.data.processor,
            label: event.data.label,
            failFast: event.data.failFast,
            createdAt: event.ts,
            startedAt: null,
            finishedAt: null,
            queuePosition: event.data.position,
            progress: summarise(files),
            files,
            error: null,
        };
    }
    if (snapshot === null) {
        throw new TypeError(`cannot apply ${event.name} (seq ${event.seq}) without a snapshot: a job starts with job.queued`);
    }
    const next = { ...snapshot, seq: event.seq };
    switch (event.name) {
        case 'job.started':
            next.status = 'running';
            next.startedAt = event.ts;
            next.queuePosition = null;
            return next;
        case 'file.started':
            return withFile(next, event.data.file, (f) => ({ ...f, status: 'running', startedAt: event.ts }));
        case 'file.progress': {
            const { done, total, fraction } = event.data;
            return withFile(next, event.data.file, (f) => ({ ...f, done, total, fraction }));
        }
        case 'file.completed': {
            const { durationMs, result, output } = event.data;
            return withFile(next, event.data.file, (f) => ({
                ...f,
                status: 'done',
                done: f.total,
                fraction: 1,
                finishedAt: event.ts,
                durationMs,
                result,
                output,
            }));
        }
        case 'file.failed': {
            const { durationMs, error } = event.data;
            return withFile(next, event.data.file, (f) => ({ ...f, status: 'failed', finishedAt: event.ts, durationMs, error }));
        }
        case 'job.requeued':
            next.status = 'queued';
            next.queuePosition = event.data.position;
            return withFiles(next, ['running'], (f) => pendingFile(f.index, f.name, f.size, f.type));
        case 'job.completed':
            return finish(next, 'completed', event.ts);
        case 'job.failed':
            // Without failFast every file has ended by now; with it, what is left never runs.
            next.error = event.data.error;
            return finish(next, 'failed', event.ts);
        case 'job.cancelled':
            return finish(next, 'cancelled', event.ts);
        default:
            // An event name from a newer server: keep the seq moving, change nothing else.
            return next;
    }
}
/** Folds a run of events onto a snapshot (or from nothing, starting at `job.queued`). */
export function foldEvents(snapshot, events) {
    let current = snapshot;
    for (const event of events)
        current = applyEvent(current, event);
    return current;
}
function pendingFile(index, name, size, type) {
    return {
        index,
        name,
        size,
        type,
        status: 'pending',
        done: 0,
        total: size,
        fraction: 0,
        startedAt: null,
        finishedAt: null,
        durationMs: null,
        result: null,
        error: null,
        output: false,
    };
}
function finish(next, status, ts) {
    next.status = status;
    next.finishedAt = ts;
    next.queuePosition = null;
    return withFiles(next, ['pending', 'running'], (f) => ({ ...f, status: 'cancelled' }));
}
function withFile(next, index, change) {
    const current = next.files[index];
    if (current === undefined)
        return next;
    const files = next.files.slice();
    files[index] = change(current);
    next.files = files;
    next.progress = summarise(files, next.progress);
    return next;
}
function withFiles(next, from, change) {
    if (!next.files.some((f) => from.includes(f.status)))
        return next;
    next.files = next.files.map((f) => (from.includes(f.status) ? change(f) : f));
    next.progress = summarise(next.files, next.progress);
    return next;
}
/** `progress.fraction` is the size-weighted mean of the files' fractions, each file weighing at least one byte. */
function summarise(files, previous) {
    let filesDone = 0;
    let filesFailed = 0;
    let bytesTotal = 0;
    let weightTotal = 0;
    let weightDone = 0;
    for (const f of files) {
        if (f.status === 'done')
            filesDone++;
        else if (f.status === 'failed')
            filesFailed++;
        bytesTotal += f.size;
        const weight = Math.max(f.size, 1);
        weightTotal += weight;
        weightDone += weight * f.fraction;
    }
    const fraction = weightTotal === 0 ? 0 : Math.min(1, weightDone / weightTotal);
    if (previous !== undefined &&
        previous.filesDone === filesDone &&
        previous.filesFailed === filesFailed &&
        previous.fraction === fraction) {
        return previous;
    }
    return { filesTotal: files.length, filesDone, filesFailed, bytesTotal, fraction };
}
//# sourceMappingURL=reducer.js.map