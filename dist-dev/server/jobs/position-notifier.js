// Queue positions are not events (SPEC 3.2): logging them would cost a write per
// waiting job per job start. Instead the queue marks itself dirty and this notifier,
// at most once per --progress-interval, sends a `position` message for each job
// whose position moved since the last message. The latest value always arrives.
export class PositionNotifier {
    queue;
    bus;
    intervalMs;
    /** Last position each waiting job was told (by an event or a message). */
    told = new Map();
    timer = null;
    lastFlushAt = 0;
    constructor(queue, bus, intervalMs) {
        this.queue = queue;
        this.bus = bus;
        this.intervalMs = intervalMs;
    }
    /** Records a position already carried by an event (job.queued, job.requeued), so no message repeats it. */
    remember(jobId, position) {
        this.told.set(jobId, position);
    }
    /** Called after every queue change; coalesces bursts into one flush per interval. */
    schedule() {
        if (this.timer !== null)
            return;
        const waitMs = Math.max(0, this.lastFlushAt + this.intervalMs - Date.now());
        this.timer = setTimeout(() => this.flush(), waitMs);
        this.timer.unref();
    }
    /** Sends every changed position now. */
    flush() {
        if (this.timer !== null)
            clearTimeout(this.timer);
        this.timer = null;
        this.lastFlushAt = Date.now();
        const waiting = new Set();
        for (const [job, position] of this.queue.positions()) {
            waiting.add(job);
            if (this.told.get(job) === position)
                continue;
            this.told.set(job, position);
            this.bus.emit('position', { type: 'position', job, position });
        }
        for (const job of this.told.keys())
            if (!waiting.has(job))
                this.told.delete(job);
    }
    /** Stops the timer; safe to call twice. */
    close() {
        if (this.timer !== null)
            clearTimeout(this.timer);
        this.timer = null;
    }
}
//# sourceMappingURL=position-notifier.js.map