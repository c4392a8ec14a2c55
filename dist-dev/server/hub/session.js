// One connection's subscriptions: catch-up, live delivery, and the slow-reader policy
// of SPEC 3.3. Engine-neutral: it writes Frames to a Connection and nothing else.
//
// Per job the session keeps a view (views.ts): the last seq the client was given and a state.
// - catchup: a snapshot or the missed events are being read; live events wait in its CatchUp.
// - live: events go out in seq order; one already given is skipped, a gap is bridged by a snapshot.
// - behind: the send buffer passed the soft limit (during live delivery or while replaying
//   missed events); nothing is written until it drains, then one fresh snapshot goes out
//   and the view is live again.
// The store answers asynchronously (a remote one, later), so anything can happen while a
// catch-up awaits it: events, positions, another subscribe, an unsubscribe, a close. Each
// catch-up checks it is still the current one before it writes, and what arrived meanwhile
// waits in its CatchUp. A `*` catch-up holds the views it alone shows the same way, so
// that its snapshots never go out older than what those views already sent.
//
// The session is also the transport's handler object (onMessage, onDrain, onClose): one
// object per connection rather than an object of closures around it.
import { CLOSE_CODES, isJobcastError } from '../errors.js';
import { isFinalStatus } from '../protocol/types.js';
import { parseClientMessage } from './client-message.js';
import { Frame } from './frame.js';
import { CatchUp, View, ViewTable } from './views.js';
export class Session {
    connection;
    host;
    mayWatchAll;
    views = new ViewTable();
    /** The `*` subscription: off, live, or the CatchUp of its snapshots being read. */
    dashboard = 'off';
    explicitCount = 0;
    isClosed = false;
    /** When the session first fell behind (for the hard limit), or null. */
    behindSince = null;
    constructor(connection, host, 
    /** Whether `*` is allowed: true unless a token is configured and was not given. */
    mayWatchAll) {
        this.connection = connection;
        this.host = host;
        this.mayWatchAll = mayWatchAll;
    }
    /** Handles one inbound text frame (null for a binary one). */
    onMessage(text) {
        const parsed = parseClientMessage(text);
        if (!parsed.ok)
            return this.sendError('bad_message', parsed.reason);
        this.handle(parsed.message).catch((err) => this.host.onSessionError(this, err));
    }
    /** Subscribes without a message from the client (SSE: the request names the job). */
    subscribe(job, since) {
        this.subscribeJob(job, since).catch((err) => this.host.onSessionError(this, err, job));
    }
    /** The send buffer emptied: every view left behind gets one fresh snapshot. */
    onDrain() {
        if (this.behindSince === null || this.isClosed)
            return;
        this.behindSince = null;
        this.host.setBehind(this, false);
        for (const view of this.views) {
            if (view.state === 'behind')
                this.catchUp(view, undefined).catch((err) => this.host.onSessionError(this, err, view.job));
        }
    }
    /** The connection is gone: forgets everything and tells the hub. */
    onClose() {
        if (this.isClosed)
            return;
        this.isClosed = true;
        for (const view of this.views)
            if (view.isExplicit)
                this.host.unwatchJob(this, view.job);
        if (this.dashboard !== 'off')
            this.host.watchAll(this, false);
        if (this.behindSince !== null)
            this.host.setBehind(this, false);
        this.host.onSessionClosed(this);
    }
    /** A live event of a job this session watches (by name or through `*`). */
    deliver(frame, snapshot) {
        let view = this.views.get(frame.job);
        if (view === undefined) {
            if (this.dashboard instanceof CatchUp)
                return this.dashboard.hold(frame, snapshot);
            if (this.dashboard === 'off')
                return;
            // A job `*` has not shown yet: from its first event on, or from a snapshot.
            view = this.views.add(new View(frame.job, false, 'live'));
        }
        this.deliverToView(view, frame, snapshot);
    }
    /**
     * A queue position message. Not logged, not replayed: live views get it, and a catch-up
     * keeps the latest one for after its snapshot (which the store may have read before it).
     */
    deliverPosition(frame) {
        const view = this.views.get(frame.job);
        if (view === undefined) {
            if (this.dashboard instanceof CatchUp)
                this.dashboard.holdPosition(frame);
            else if (this.dashboard === 'live')
                this.connection.send(frame);
            return;
        }
        const catchUp = view.catchUp;
        if (catchUp !== null)
            catchUp.holdPosition(frame);
        else if (view.state === 'live')
            this.sendPosition(view, frame);
    }
    sendPosition(view, frame) {
        if (this.isOverSoftLimit())
            return this.fallBehind(view);
        this.connection.send(frame);
    }
    deliverToView(view, frame, snapshot) {
        if (view.state instanceof CatchUp)
            return view.state.hold(frame, snapshot);
        if (view.state === 'behind' || frame.seq <= view.lastSeq)
            return;
        if (this.isOverSoftLimit())
            return this.fallBehind(view);
        if (frame.seq === view.lastSeq + 1) {
            this.connection.send(frame);
        }
        else {
            // The client has not seen this job's earlier events: bridge the gap with the snapshot at this event.
            this.connection.send(Frame.snapshot(this.host.withPosition(snapshot)));
        }
        view.lastSeq = frame.seq;
        // Through `*` only: a finished job sends nothing more, so its view can go.
        if (frame.isFinal && !view.isExplicit)
            this.views.delete(view);
    }
    async handle(message) {
        if (this.isClosed)
            return;
        switch (message.op) {
            case 'ping':
                return this.connection.send(Frame.control({ type: 'pong' }));
            case 'subscribe':
                return message.job === '*' ? this.subscribeAll() : this.subscribeJob(message.job, message.since);
            case 'unsubscribe':
                return message.job === '*' ? this.unsubscribeAll() : this.unsubscribeJob(message.job);
        }
    }
    async subscribeJob(job, since) {
        if (this.isClosed)
            return;
        let view = this.views.get(job);
        if (view === undefined || !view.isExplicit) {
            if (this.subscriptionCount() >= this.host.maxSubscriptions) {
                return this.sendError('too_many_subscriptions', `at most ${this.host.maxSubscriptions} subscriptions per connection`, job);
            }
            // Registered before the catch-up read: an event appended meanwhile waits in its CatchUp.
            const sharedJob = this.host.watchJob(this, job);
            if (view === undefined)
                view = this.views.add(new View(sharedJob, true, 'live'));
            view.isExplicit = true;
            this.explicitCount++;
        }
        const mode = await this.catchUp(view, since);
        if (mode !== null)
            this.connection.send(Frame.control({ type: 'subscribed', job, seq: view.lastSeq, mode }));
    }
    /**
     * Brings a view up to date: the events after `since` when the log covers them, else a
     * snapshot; then whatever arrived meanwhile. Resolves null when superseded or failed.
     */
    async catchUp(view, since) {
        const catchUp = new CatchUp(view.catchUp);
        view.state = catchUp;
        let events;
        let current;
        try {
            events = since === undefined ? null : await this.host.eventsSince(view.job, since);
            // In resume mode too: queue positions are not replayed (SPEC 3.2), so a client resuming a
            // queued job would keep the position of its last event until the queue next moves.
            current = await this.host.getSnapshot(view.job);
        }
        catch (err) {
            if (this.isCurrent(view, catchUp))
                this.failView(view, err);
            return null;
        }
        if (!this.isCurrent(view, catchUp))
            return null;
        const isCut = events === null ? this.sendSnapshot(view, current) : this.replay(view, since, events);
        if (isCut) {
            this.fallBehind(view);
        }
        else {
            if (events !== null && current.queuePosition !== null)
                this.connection.send(Frame.position(view.job, current.queuePosition));
            this.goLive(view, current);
        }
        // Catch-up writes ignore the soft limit (a snapshot must go out), so many of them can
        // pile up with no live event to notice: start the behind clock, so that the hard limit
        // and maxBehindMs apply to this buffer too.
        if (this.isOverSoftLimit())
            this.noteBehind();
        return events === null ? 'snapshot' : 'resume';
    }
    isCurrent(view, catchUp) {
        return !this.isClosed && view.state === catchUp && this.views.get(view.job) === view;
    }
    sendSnapshot(view, snapshot) {
        this.connection.send(Frame.snapshot(snapshot));
        view.lastSeq = snapshot.seq;
        return false;
    }
    /** Sends the missed events; true when the soft limit cut the replay short. */
    replay(view, since, events) {
        view.lastSeq = since;
        for (const event of events) {
            // A long log replayed to a client that does not read would queue all of it (up to
            // --log-size events per subscription) past every limit: stop at the soft limit like
            // live delivery does, and let the drain send a snapshot for the rest (SPEC 3.3).
            if (this.isOverSoftLimit())
                return true;
            this.connection.send(Frame.event(event));
            view.lastSeq = event.seq;
        }
        return false;
    }
    /**
     * Ends a catch-up: the view is live, what waited goes out in arrival order, and then the
     * latest position that came meanwhile if the job is still queued by the newest snapshot known.
     */
    goLive(view, latest) {
        const catchUp = view.catchUp;
        if (catchUp === null)
            return;
        view.state = 'live';
        for (const [frame, after] of catchUp.pending) {
            this.deliverToView(view, frame, after);
            if (latest === null || after.seq > latest.seq)
                latest = after;
        }
        const position = catchUp.positionOf(view.job);
        if (position !== null && view.state === 'live' && latest?.status === 'queued')
            this.sendPosition(view, position);
    }
    /**
     * A catch-up read failed. The view is dropped, not left catching up with events piling up
     * behind it; the client is told, and may subscribe again.
     */
    failView(view, err) {
        const wasExplicit = view.isExplicit;
        this.views.delete(view);
        if (wasExplicit)
            this.dropExplicit(view);
        if (isJobcastError(err) && err.code === 'job_not_found') {
            // By name, SPEC 3.3's answer. Through `*` only, the job was deleted: no event follows, nothing to say.
            if (wasExplicit)
                this.sendError('job_not_found', err.message, view.job);
            return;
        }
        // The store failed. Through `*`, the job's next event brings a new view and a snapshot; by name, the client may subscribe again.
        this.host.onSessionError(this, err, view.job);
        this.sendError('internal_error', 'reading the job failed; see the server log', view.job);
    }
    unsubscribeJob(job) {
        const view = this.views.get(job);
        if (view?.isExplicit) {
            this.dropExplicit(view);
            // Still shown through `*`: while `*` catches up, the view waits for its snapshot (never
            // older than what the view sent); when live, a live view carries on as a `*` one.
            if (this.dashboard instanceof CatchUp)
                view.state = new CatchUp(view.catchUp);
            else if (this.dashboard === 'off' || view.state !== 'live')
                this.views.delete(view);
        }
        this.connection.send(Frame.control({ type: 'unsubscribed', job }));
    }
    dropExplicit(view) {
        view.isExplicit = false;
        this.explicitCount--;
        this.host.unwatchJob(this, view.job);
    }
    async subscribeAll() {
        if (!this.mayWatchAll)
            return this.sendError('unauthorized', 'the "*" subscription needs the token: connect with ?token=', '*');
        if (this.dashboard === 'off' && this.subscriptionCount() >= this.host.maxSubscriptions) {
            return this.sendError('too_many_subscriptions', `at most ${this.host.maxSubscriptions} subscriptions per connection`, '*');
        }
        if (this.dashboard === 'off')
            this.host.watchAll(this, true);
        const catchUp = new CatchUp(this.dashboard instanceof CatchUp ? this.dashboard : null);
        this.dashboard = catchUp;
        // The views `*` alone shows wait for the new snapshots too, keeping their lastSeq: an
        // event they sent while the store was read must not be followed by an older snapshot,
        // and a job whose final event they sent must not come back from one.
        for (const view of this.views)
            if (!view.isExplicit)
                view.state = new CatchUp(view.catchUp);
        let snapshots;
        try {
            snapshots = await this.host.dashboardSnapshots();
        }
        catch (err) {
            if (!this.isClosed && this.dashboard === catchUp)
                this.failDashboard(err);
            return;
        }
        if (this.isClosed || this.dashboard !== catchUp)
            return;
        this.dashboard = 'live';
        this.showDashboard(snapshots);
        for (const [frame, snapshot] of catchUp.pending)
            this.deliver(frame, snapshot);
        this.releasePositions(catchUp, snapshots);
        // A finished job sends nothing more: once what waited for it has gone out, its view can go.
        for (const snapshot of snapshots) {
            const view = this.views.get(snapshot.id);
            if (isFinalStatus(snapshot.status) && view !== undefined && !view.isExplicit)
                this.views.delete(view);
        }
        this.connection.send(Frame.control({ type: 'subscribed', job: '*', mode: 'snapshot' }));
        // Up to every active job plus 100 finished ones went out regardless of the soft limit (see catchUp).
        if (this.isOverSoftLimit())
            this.noteBehind();
    }
    /** Sends the `*` snapshots (none older than its view) and lets the views it held go live. */
    showDashboard(snapshots) {
        for (const snapshot of snapshots) {
            let view = this.views.get(snapshot.id);
            // A job also subscribed by name is served by that subscription.
            if (view?.isExplicit)
                continue;
            view ??= this.views.add(new View(snapshot.id, false, new CatchUp()));
            if (snapshot.seq > view.lastSeq)
                this.sendSnapshot(view, snapshot);
            this.goLive(view, snapshot);
        }
        // Held views of jobs the list no longer names (finished long ago): what waited still goes out.
        for (const view of [...this.views])
            if (!view.isExplicit && view.state instanceof CatchUp)
                this.goLive(view, null);
    }
    /** Positions held while `*` was read, of jobs it had no view of: sent if the newest snapshot known is still queued. */
    releasePositions(catchUp, snapshots) {
        const held = [...catchUp.heldPositions()];
        if (held.length === 0)
            return;
        const latest = new Map(snapshots.map((s) => [s.id, s]));
        for (const [, after] of catchUp.pending)
            if (after.seq > (latest.get(after.id)?.seq ?? 0))
                latest.set(after.id, after);
        for (const [job, frame] of held)
            if (latest.get(job)?.status === 'queued')
                this.deliverPosition(frame);
    }
    /** The `*` snapshots could not be read: `*` is off again (the client may subscribe again). */
    failDashboard(err) {
        this.host.onSessionError(this, err, '*');
        this.stopDashboard();
        this.sendError('internal_error', 'reading the jobs failed; subscribe again', '*');
    }
    unsubscribeAll() {
        if (this.dashboard !== 'off')
            this.stopDashboard();
        this.connection.send(Frame.control({ type: 'unsubscribed', job: '*' }));
    }
    stopDashboard() {
        this.dashboard = 'off';
        this.host.watchAll(this, false);
        for (const view of this.views)
            if (!view.isExplicit)
                this.views.delete(view);
    }
    subscriptionCount() {
        return this.explicitCount + (this.dashboard === 'off' ? 0 : 1);
    }
    isOverSoftLimit() {
        return this.connection.bufferedAmount() > this.host.softLimitBytes;
    }
    fallBehind(view) {
        view.state = 'behind';
        this.noteBehind();
    }
    /** Starts the behind clock (the hub checks the hard limit and maxBehindMs); the next drain stops it. */
    noteBehind() {
        if (this.behindSince === null) {
            this.behindSince = Date.now();
            this.host.setBehind(this, true);
        }
    }
    sendError(code, message, job) {
        this.connection.send(Frame.control({ type: 'error', code, message, ...(job !== undefined && { job }) }));
    }
    /** Closes the connection as too slow (SPEC 3.3: 1013, the client resumes with since). */
    closeAsSlow() {
        this.connection.close(CLOSE_CODES.tryAgainLater, 'the client reads too slowly');
    }
}
//# sourceMappingURL=session.js.map