// The jobcast client SDK (SPEC 3.3, 7): follow jobs over one WebSocket and keep a view
// equal to the server's, across drops, slow-reader closes and server restarts.
// Runs in browsers and in Node: no node: imports, the WebSocket is injected.
//
// One JobView per job is shared by watch() and watchAll(), as the server keeps one
// view per job per connection: a job watched by name is also part of the `*`
// dashboard, and its events arrive once whichever subscription asked for them.
import { Backoff } from './backoff.js';
import { JobView } from './job-view.js';
import { callSafely, Listeners } from './listeners.js';
import { resolveClientOptions } from './options.js';
import { ReconnectingSocket } from './reconnecting-socket.js';
/** Creates a client and starts connecting. Throws a TypeError naming the option that cannot work. */
export function createClient(options) {
    return new Client(options);
}
/** Job ids the server accepts (nanoid()s, SPEC 1); anything else would only earn a bad_message. */
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
class Client {
    views = new Map();
    watches = new Map();
    dashboard = null;
    state = 'connecting';
    attempt = 0;
    hasBeenLive = false;
    /** Sockets opened so far: the number of the current one. */
    connection = 0;
    stateListeners = new Listeners();
    socket;
    constructor(options) {
        const resolved = resolveClientOptions(options);
        this.socket = new ReconnectingSocket({
            url: resolved.socketUrl,
            WebSocket: resolved.WebSocket,
            backoff: new Backoff(resolved.backoff),
            pingIntervalMs: resolved.pingIntervalMs,
            handlers: {
                onOpen: () => this.socketOnOpen(),
                onMessage: (message) => this.socketOnMessage(message),
                onDown: (attempt) => this.socketOnDown(attempt),
            },
        });
        this.socket.start();
    }
    get connectionState() {
        return this.state;
    }
    onConnectionState(listener) {
        return this.stateListeners.add(listener);
    }
    watch(jobId, onState) {
        if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) {
            throw new TypeError(`watch() needs a job id (the "id" of POST /jobs), got ${JSON.stringify(jobId)}; use watchAll() for every job`);
        }
        if (typeof onState !== 'function')
            throw new TypeError('watch() needs an onState function');
        if (this.state === 'closed')
            return () => { };
        let watch = this.watches.get(jobId);
        const isNew = watch === undefined;
        if (watch === undefined) {
            watch = { listeners: new Listeners(), isSettled: false, mode: null, error: undefined };
            this.watches.set(jobId, watch);
            if (!this.views.has(jobId))
                this.views.set(jobId, new JobView(jobId));
        }
        const current = watch;
        const remove = current.listeners.add(onState);
        let isWatching = true;
        if (isNew)
            this.subscribeWatch(jobId);
        // A job already known (another watch, the dashboard) is told to the newcomer, after watch() has returned.
        void Promise.resolve().then(() => {
            if (!isWatching || this.state === 'closed' || this.watches.get(jobId) !== current)
                return;
            const snapshot = this.views.get(jobId)?.snapshot ?? null;
            if (snapshot !== null || current.error !== undefined)
                callSafely(onState, [snapshot, infoOf(current)]);
        });
        return () => {
            if (!isWatching)
                return;
            isWatching = false;
            remove();
            if (current.listeners.size > 0 || this.watches.get(jobId) !== current)
                return;
            this.watches.delete(jobId);
            this.socket.send({ op: 'unsubscribe', job: jobId });
            if (this.dashboard === null)
                this.views.delete(jobId);
            this.checkLive();
        };
    }
    watchAll(onState, onError) {
        if (typeof onState !== 'function')
            throw new TypeError('watchAll() needs an onState function');
        if (onError !== undefined && typeof onError !== 'function')
            throw new TypeError('watchAll() onError must be a function');
        if (this.state === 'closed')
            return () => { };
        let dashboard = this.dashboard;
        if (dashboard === null) {
            dashboard = {
                listeners: new Listeners(),
                errorListeners: new Listeners(),
                isSettled: false,
                hasSettledOnce: false,
                touched: null,
                isStale: false,
            };
            this.dashboard = dashboard;
            this.subscribeDashboard();
        }
        else if (dashboard.hasSettledOnce) {
            const known = this.dashboardJobs();
            void Promise.resolve().then(() => isWatching && this.state !== 'closed' && callSafely(onState, [known]));
        }
        const current = dashboard;
        const removeState = current.listeners.add(onState);
        const removeError = onError === undefined ? () => { } : current.errorListeners.add(onError);
        let isWatching = true;
        return () => {
            if (!isWatching)
                return;
            isWatching = false;
            removeState();
            removeError();
            if (current.listeners.size > 0 || this.dashboard !== current)
                return;
            this.dashboard = null;
            this.socket.send({ op: 'unsubscribe', job: '*' });
            for (const id of this.views.keys())
                if (!this.watches.has(id))
                    this.views.delete(id);
            this.checkLive();
        };
    }
    close() {
        if (this.state === 'closed')
            return;
        this.socket.close();
        this.setState('closed', this.attempt);
        this.stateListeners.clear();
    }
    // The socket's life.
    socketOnOpen() {
        this.connection++;
        for (const jobId of this.watches.keys())
            this.subscribeWatch(jobId);
        if (this.dashboard !== null)
            this.subscribeDashboard();
        this.checkLive();
    }
    socketOnDown(attempt) {
        for (const watch of this.watches.values()) {
            watch.isSettled = false;
            watch.mode = null;
        }
        if (this.dashboard !== null) {
            this.dashboard.isSettled = false;
            this.dashboard.touched = null;
        }
        this.attempt = attempt;
        this.setState('reconnecting', attempt);
    }
    /** Every subscription of this socket has been answered: the connection is live. */
    checkLive() {
        if (this.state === 'live' || this.state === 'closed' || !this.socket.isOpen)
            return;
        for (const watch of this.watches.values())
            if (!watch.isSettled)
                return;
        if (this.dashboard !== null && !this.dashboard.isSettled)
            return;
        const resumed = this.hasBeenLive;
        this.hasBeenLive = true;
        this.socket.markHealthy();
        const attempt = this.attempt;
        this.attempt = 0;
        this.setState('live', attempt, resumed);
    }
    setState(state, attempt, resumed = false) {
        this.state = state;
        this.stateListeners.emit(state, { attempt, resumed });
    }
    /** (Re)subscribes a watch, resuming after the last seq held (SPEC 3.3) unless the view needs a fresh snapshot. */
    subscribeWatch(jobId) {
        const watch = this.watches.get(jobId);
        const view = this.views.get(jobId);
        watch.isSettled = false;
        const since = view !== undefined && view.snapshot !== null && !view.needsSnapshot ? view.lastSeq : undefined;
        this.socket.send(since === undefined ? { op: 'subscribe', job: jobId } : { op: 'subscribe', job: jobId, since });
    }
    subscribeDashboard() {
        const dashboard = this.dashboard;
        dashboard.isSettled = false;
        dashboard.isStale = false;
        dashboard.touched = new Set();
        this.socket.send({ op: 'subscribe', job: '*' });
    }
    // Messages (SPEC 3.3, server to client).
    socketOnMessage(message) {
        switch (message.type) {
            case 'snapshot':
                return this.snapshotOnMessage(message.job);
            case 'event':
                return this.eventOnMessage(message);
            case 'position': {
                const view = this.viewFor(message.job);
                if (view?.applyPosition(message.position))
                    this.changed(message.job);
                return;
            }
            case 'subscribed':
                return message.job === '*' ? this.dashboardOnSubscribed() : this.watchOnSubscribed(message.job, message.seq, message.mode);
            case 'error':
                return this.errorOnMessage(message.job, { code: message.code, message: message.message });
            case 'unsubscribed':
            case 'pong':
                return;
        }
    }
    /** The view of a job this client follows (marking it as still on the server during a dashboard catch-up), or undefined. */
    viewFor(jobId) {
        const view = this.views.get(jobId);
        if (view !== undefined)
            this.dashboard?.touched?.add(jobId);
        return view;
    }
    snapshotOnMessage(snapshot) {
        let view = this.viewFor(snapshot.id);
        if (view === undefined) {
            // A job followed by nobody any more (unwatched while its frames were in flight).
            if (this.dashboard === null)
                return;
            view = this.addDashboardView(snapshot.id);
        }
        if (view.applySnapshot(snapshot, this.connection))
            this.changed(snapshot.id);
    }
    eventOnMessage(event) {
        let view = this.viewFor(event.job);
        if (view === undefined) {
            // Through `*`: a new job starts with job.queued; for any other event the server sends a snapshot instead.
            if (this.dashboard === null || event.name !== 'job.queued')
                return;
            view = this.addDashboardView(event.job);
        }
        switch (view.applyEvent(event, this.connection)) {
            case 'applied':
                return this.changed(event.job, event);
            case 'stale':
                return;
            case 'gap':
            case 'invalid':
                return this.resync(event.job);
        }
    }
    addDashboardView(jobId) {
        const view = new JobView(jobId);
        this.views.set(jobId, view);
        this.dashboard?.touched?.add(jobId);
        return view;
    }
    /**
     * Missed events: resubscribe with `since` = the last seq held (SPEC 3.2). While a
     * catch-up is under way nothing is sent: its `subscribed` is checked against the view.
     */
    resync(jobId) {
        const watch = this.watches.get(jobId);
        if (watch !== undefined) {
            if (watch.isSettled)
                this.subscribeWatch(jobId);
            return;
        }
        // Through `*` the server bridges gaps with snapshots; one that shows anyway is repaired by a fresh `*` catch-up.
        const dashboard = this.dashboard;
        if (dashboard === null)
            return;
        if (dashboard.isSettled)
            this.subscribeDashboard();
        else
            dashboard.isStale = true;
    }
    watchOnSubscribed(jobId, seq, mode) {
        const watch = this.watches.get(jobId);
        const view = this.views.get(jobId);
        if (watch === undefined || view === undefined)
            return;
        // `seq` is the last seq the server delivered: a view that does not hold it missed something.
        if (view.snapshot === null || view.needsSnapshot || (seq !== undefined && seq !== view.lastSeq)) {
            return this.subscribeWatch(jobId);
        }
        watch.isSettled = true;
        watch.mode = mode;
        watch.error = undefined;
        watch.listeners.emit(view.snapshot, infoOf(watch));
        this.checkLive();
    }
    dashboardOnSubscribed() {
        const dashboard = this.dashboard;
        if (dashboard === null)
            return;
        if (dashboard.isStale)
            return this.subscribeDashboard();
        if (dashboard.touched !== null) {
            for (const id of this.views.keys())
                if (!dashboard.touched.has(id) && !this.watches.has(id))
                    this.views.delete(id);
        }
        dashboard.touched = null;
        dashboard.isSettled = true;
        dashboard.hasSettledOnce = true;
        dashboard.listeners.emit(this.dashboardJobs());
        this.checkLive();
    }
    errorOnMessage(jobId, error) {
        // An error about no job (bad_message) concerns no watch: this client sends only well-formed messages.
        if (jobId === undefined)
            return;
        if (jobId === '*') {
            const dashboard = this.dashboard;
            if (dashboard === null)
                return;
            dashboard.isSettled = true;
            dashboard.touched = null;
            dashboard.errorListeners.emit(error);
            return this.checkLive();
        }
        const watch = this.watches.get(jobId);
        if (watch === undefined)
            return;
        if (error.code === 'job_not_found') {
            // The server does not have the job (never had, deleted, or lost with a memory store): the watch ends.
            this.watches.delete(jobId);
            const hadSnapshot = (this.views.get(jobId)?.snapshot ?? null) !== null;
            this.views.delete(jobId);
            watch.listeners.emit(null, { mode: null, error });
            if (hadSnapshot)
                this.changedDashboard();
            return this.checkLive();
        }
        watch.isSettled = true;
        watch.error = error;
        watch.listeners.emit(this.views.get(jobId)?.snapshot ?? null, infoOf(watch));
        this.checkLive();
    }
    changed(jobId, event) {
        const watch = this.watches.get(jobId);
        const snapshot = this.views.get(jobId)?.snapshot ?? null;
        if (watch !== undefined && snapshot !== null) {
            watch.listeners.emit(snapshot, event === undefined ? infoOf(watch) : { ...infoOf(watch), event });
        }
        this.changedDashboard();
    }
    changedDashboard() {
        const dashboard = this.dashboard;
        if (dashboard === null || !dashboard.hasSettledOnce)
            return;
        dashboard.listeners.emit(this.dashboardJobs());
    }
    /** A fresh map for each call: listeners may keep it (and compare it by identity). */
    dashboardJobs() {
        const jobs = new Map();
        for (const [id, view] of this.views)
            if (view.snapshot !== null)
                jobs.set(id, view.snapshot);
        return jobs;
    }
}
function infoOf(watch) {
    return watch.error === undefined ? { mode: watch.mode } : { mode: watch.mode, error: watch.error };
}
//# sourceMappingURL=jobcast-client.js.map