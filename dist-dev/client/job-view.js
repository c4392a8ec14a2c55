// One job as this client sees it, kept with the server's own reducer (SPEC 3.5):
// a snapshot replaces the view, an event is folded only when its seq is the next
// one, and a queue position (not an event, SPEC 3.2) is set on a queued job.
import { applyEvent } from '../server/protocol/reducer.js';
/** The client's copy of one job: a snapshot that only moves forward by whole snapshots and next-seq events. */
export class JobView {
    id;
    /** The job's state, or null until the first snapshot (or `job.queued`) arrives. */
    snapshot = null;
    /** Set when an event could not be folded: only a snapshot can repair the view (resubscribe without `since`). */
    needsSnapshot = false;
    /** Which socket last changed the view (the client numbers its sockets); -1 for none. */
    connection = -1;
    constructor(id) {
        this.id = id;
    }
    /** The last seq folded into the view; 0 with no snapshot. */
    get lastSeq() {
        return this.snapshot?.seq ?? 0;
    }
    /**
     * Replaces the view; false when the snapshot is stale. A snapshot older than the view
     * is the server's truth when it comes on a new socket (a store restored from an older
     * copy, SPEC 3.2), but on the socket that already delivered the newer seq it can only
     * be a late one: one socket's frames for a job never go back (SPEC 3.2).
     */
    applySnapshot(snapshot, connection) {
        if (this.snapshot !== null && snapshot.seq < this.snapshot.seq && connection === this.connection)
            return false;
        this.snapshot = snapshot;
        this.needsSnapshot = false;
        this.connection = connection;
        return true;
    }
    /** Folds `event` if it is the next one (SPEC 3.2: a client missed something exactly when seq is not last + 1). */
    applyEvent(event, connection) {
        if (this.snapshot === null && event.name !== 'job.queued')
            return 'gap';
        if (this.snapshot !== null && event.seq <= this.snapshot.seq)
            return 'stale';
        if (event.seq !== this.lastSeq + 1)
            return 'gap';
        try {
            this.snapshot = applyEvent(this.snapshot, event);
            this.connection = connection;
        }
        catch {
            // The reducer is pure: a throw left the view as it was.
            this.needsSnapshot = true;
            return 'invalid';
        }
        return 'applied';
    }
    /** Sets the queue position of a queued job; true when the view changed. Positions of jobs that moved on are stale. */
    applyPosition(position) {
        const snapshot = this.snapshot;
        if (snapshot === null || snapshot.status !== 'queued' || snapshot.queuePosition === position)
            return false;
        this.snapshot = { ...snapshot, queuePosition: position };
        return true;
    }
}
//# sourceMappingURL=job-view.js.map