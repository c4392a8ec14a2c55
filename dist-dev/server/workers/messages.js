// The typed messages between the pool (main thread) and a worker thread.
//
// One task travels through piscina (`WorkerTask` in, `WorkerResult` out). Everything
// that happens while it runs (started, progress, log lines, the abort request) travels
// over a MessagePort created for that task alone, so messages of two tasks can never
// mix and closing the port after the task cleans up every listener on both sides.
//
// Messages on the task port and piscina's result arrive on different ports, and Node
// keeps no order between ports (piscina issue #133). The pool therefore drains the task
// port synchronously when the result arrives; a message posted before the result is
// already in the port's queue by then.
/** Narrows an unknown port message to a WorkerMessage (the pool trusts nothing it has not checked). */
export function isWorkerMessage(value) {
    if (typeof value !== 'object' || value === null)
        return false;
    const message = value;
    switch (message['type']) {
        case 'started':
            return true;
        case 'progress':
            return (typeof message['done'] === 'number' &&
                (message['total'] === null || typeof message['total'] === 'number') &&
                Number.isSafeInteger(message['ts']));
        case 'log':
            return typeof message['message'] === 'string';
        default:
            return false;
    }
}
/** Narrows an unknown port message to a PoolMessage. */
export function isPoolMessage(value) {
    if (typeof value !== 'object' || value === null)
        return false;
    const message = value;
    return message['type'] === 'abort' && (message['reason'] === 'cancelled' || message['reason'] === 'timeout');
}
//# sourceMappingURL=messages.js.map