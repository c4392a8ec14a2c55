// What a session knows per job it shows its client (see session.ts for the states), and
// the table of them. Thousands of idle connections each hold one: every field here is
// paid for 5,000 times, so what only a catch-up needs lives in a CatchUp that exists
// only while one runs.
/**
 * What waits while a view (or the `*` subscription) catches up. A new catch-up gets a new
 * CatchUp, so an older one still awaiting the store can tell it was superseded.
 */
export class CatchUp {
    /** Live events that arrived meanwhile, each with the job's snapshot right after it; in arrival order. */
    pending;
    /**
     * The latest queue position per job that arrived meanwhile (one job for a view, any for
     * `*`): positions are not replayed (SPEC 3.2), and the store may have read an older one.
     */
    positions;
    /** Takes over what waited for the catch-up it supersedes: none of it was sent either. */
    constructor(superseded = null) {
        this.pending = superseded?.pending ?? [];
        this.positions = superseded?.positions ?? null;
    }
    hold(frame, snapshot) {
        this.pending.push([frame, snapshot]);
        // Every job.* event sets queuePosition itself (SPEC 3.2), so a position from before it is stale.
        if (frame.name.startsWith('job.'))
            this.positions?.delete(frame.job);
    }
    holdPosition(frame) {
        (this.positions ??= new Map()).set(frame.job, frame);
    }
    positionOf(job) {
        return this.positions?.get(job) ?? null;
    }
    /** Every position held, by job. */
    heldPositions() {
        return this.positions ?? [];
    }
}
export class View {
    job;
    isExplicit;
    /** Seq of the last event or snapshot given to the client; 0 before any. */
    lastSeq = 0;
    /** A CatchUp while the store is read (live events wait in it), else live or behind. */
    state;
    constructor(
    /** The job's id; the hub's copy of the string where there is one, shared by every watcher. */
    job, 
    /** Subscribed by name (not only through `*`). */
    isExplicit, state) {
        this.job = job;
        this.isExplicit = isExplicit;
        this.state = state;
    }
    /** The catch-up under way, or null. */
    get catchUp() {
        return this.state instanceof CatchUp ? this.state : null;
    }
}
/**
 * A session's views by job. Most connections watch one job (an SDK client, an SSE stream,
 * a job page), so that one is held inline and a Map is made only for a second one.
 */
export class ViewTable {
    first = null;
    more = null;
    get(job) {
        return this.first?.job === job ? this.first : this.more?.get(job);
    }
    add(view) {
        if (this.first === null)
            this.first = view;
        else
            (this.more ??= new Map()).set(view.job, view);
        return view;
    }
    delete(view) {
        if (this.first === view)
            this.first = null;
        else if (this.more?.get(view.job) === view)
            this.more.delete(view.job);
    }
    /** Every view; deleting the current one while iterating is allowed. */
    *[Symbol.iterator]() {
        if (this.first !== null)
            yield this.first;
        if (this.more !== null)
            yield* this.more.values();
    }
}
//# sourceMappingURL=views.js.map