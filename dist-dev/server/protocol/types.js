// The public data model of jobcast (SPEC sections 3.1 to 3.3).
// This folder must stay free of node: imports: the browser bundles it.
export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'];
/** A job status from which nothing moves on. */
export function isFinalStatus(status) {
    return status === 'completed' || status === 'failed' || status === 'cancelled';
}
export const EVENT_NAMES = [
    'job.queued',
    'job.started',
    'file.started',
    'file.progress',
    'file.completed',
    'file.failed',
    'job.requeued',
    'job.completed',
    'job.failed',
    'job.cancelled',
];
//# sourceMappingURL=types.js.map