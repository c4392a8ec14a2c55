// The waiting line of jobs (SPEC 1: jobs run in the order they were queued).
// Kept in memory by the process that owns the store; rebuilt from the store at start.
/** FIFO by creation order, with O(1) membership and O(n) positions (n is bounded by --max-queued-jobs). */
export class JobQueue {
    waiting = [];
    byId = new Map();
    nextOrder = 0;
    onChange;
    /** `onChange` runs after every change of membership or order (positions may have moved). */
    constructor(onChange = () => { }) {
        this.onChange = onChange;
    }
    get size() {
        return this.waiting.length;
    }
    has(id) {
        return this.byId.has(id);
    }
    /** Adds a job behind every job created before it; returns its 1-based position. */
    add(id, enqueuedAt = Date.now()) {
        if (this.byId.has(id))
            return this.position(id);
        const entry = { id, order: this.nextOrder++, enqueuedAt };
        this.waiting.push(entry);
        this.byId.set(id, entry);
        this.onChange();
        return this.waiting.length;
    }
    /**
     * Puts a job back at the place its creation order gives it (a job stopped by a
     * shutdown returns ahead of the jobs queued after it). Returns its position.
     */
    putBack(id, order, enqueuedAt = Date.now()) {
        if (this.byId.has(id))
            return this.position(id);
        const entry = { id, order, enqueuedAt };
        let at = this.waiting.findIndex((w) => w.order > order);
        if (at === -1)
            at = this.waiting.length;
        this.waiting.splice(at, 0, entry);
        this.byId.set(id, entry);
        this.onChange();
        return at + 1;
    }
    /** Removes a waiting job (cancel); false when it was not waiting. */
    remove(id) {
        const entry = this.byId.get(id);
        if (entry === undefined)
            return false;
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        this.byId.delete(id);
        this.onChange();
        return true;
    }
    /** Takes the next job to run, with the order it should keep if it is ever put back. */
    shift() {
        const entry = this.waiting.shift();
        if (entry === undefined)
            return undefined;
        this.byId.delete(entry.id);
        this.onChange();
        return { id: entry.id, order: entry.order };
    }
    /** 1 for the next job to start; null when not waiting. */
    position(id) {
        const entry = this.byId.get(id);
        return entry === undefined ? null : this.waiting.indexOf(entry) + 1;
    }
    /** Every waiting job with its position, front first. */
    *positions() {
        for (let i = 0; i < this.waiting.length; i++)
            yield [this.waiting[i].id, i + 1];
    }
    /** When the job at the front was queued, or null when nothing waits. */
    oldestEnqueuedAt() {
        let oldest = null;
        for (const w of this.waiting)
            if (oldest === null || w.enqueuedAt < oldest)
                oldest = w.enqueuedAt;
        return oldest;
    }
}
//# sourceMappingURL=job-queue.js.map