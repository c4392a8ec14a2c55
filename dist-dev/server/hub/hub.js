// The fan-out hub: who watches which job, and one serialisation per event for all of
// them. Engine-neutral: transports hand it Connections and forward what they hear.
import { CLOSE_CODES } from '../errors.js';
import { Frame } from './frame.js';
import { Session } from './session.js';
/** For a connection refused at shutdown: it hears nothing. */
const IGNORED = Object.freeze({ onMessage() { }, onDrain() { }, onClose() { }, subscribe() { } });
/**
 * A job's watchers, with the one copy of its id they all share: ids arrive in each client's
 * own message, and 5,000 subscribers of a job would otherwise keep 5,000 copies of it.
 */
class Watchers extends Set {
    job;
    constructor(job) {
        super();
        this.job = job;
    }
}
const DEFAULT_SOFT_LIMIT = 1024 * 1024;
const DEFAULT_HARD_LIMIT = 8 * 1024 * 1024;
const DEFAULT_MAX_BEHIND_MS = 30_000;
/** How often connections that are behind are checked against the hard limits. */
const SLOW_CHECK_MS = 500;
export class Hub {
    opts;
    maxSubscriptions;
    softLimitBytes;
    hardLimitBytes;
    maxBehindMs;
    byJob = new Map();
    dashboards = new Set();
    sessions = new Set();
    behind = new Set();
    timer;
    isClosed = false;
    constructor(opts) {
        this.opts = opts;
        this.maxSubscriptions = opts.maxSubscriptions;
        this.softLimitBytes = opts.softLimitBytes ?? DEFAULT_SOFT_LIMIT;
        this.hardLimitBytes = opts.hardLimitBytes ?? DEFAULT_HARD_LIMIT;
        this.maxBehindMs = opts.maxBehindMs ?? DEFAULT_MAX_BEHIND_MS;
        opts.bus.on('event', this.busOnEvent);
        opts.bus.on('position', this.busOnPosition);
        this.timer = setInterval(() => this.closeTooSlow(), SLOW_CHECK_MS);
        this.timer.unref();
    }
    /** Connections open now. */
    get size() {
        return this.sessions.size;
    }
    /** Slow-reader state, for metrics and tests: connections behind, and the most bytes any connection has buffered. */
    stats() {
        let maxBufferedBytes = 0;
        for (const session of this.sessions)
            maxBufferedBytes = Math.max(maxBufferedBytes, session.connection.bufferedAmount());
        return { connections: this.sessions.size, behind: this.behind.size, maxBufferedBytes };
    }
    /**
     * Adopts a connection; the transport forwards its messages, drains and close to the
     * handlers. They are the Session itself, not closures around it: one object per connection.
     */
    open(connection, options) {
        if (this.isClosed) {
            connection.close(CLOSE_CODES.shutdown, 'the server is shutting down');
            return IGNORED;
        }
        const session = new Session(connection, this, options.mayWatchAll);
        this.sessions.add(session);
        return session;
    }
    /** Closes every connection with 1001 (SPEC 3.3: the clients resume elsewhere or later). Safe to call twice. */
    close() {
        if (this.isClosed)
            return;
        this.isClosed = true;
        clearInterval(this.timer);
        this.opts.bus.off('event', this.busOnEvent);
        this.opts.bus.off('position', this.busOnPosition);
        for (const session of this.sessions)
            session.connection.close(CLOSE_CODES.shutdown, 'the server is shutting down');
    }
    // The event path: one Frame per event, the same object for every subscriber.
    busOnEvent = (event, snapshot) => {
        const watchers = this.byJob.get(event.job);
        if (watchers === undefined && this.dashboards.size === 0)
            return;
        const frame = Frame.event(event);
        if (watchers !== undefined)
            for (const session of watchers)
                session.deliver(frame, snapshot);
        for (const session of this.dashboards)
            if (watchers === undefined || !watchers.has(session))
                session.deliver(frame, snapshot);
    };
    busOnPosition = (message) => {
        const watchers = this.byJob.get(message.job);
        if (watchers === undefined && this.dashboards.size === 0)
            return;
        const frame = Frame.position(message.job, message.position);
        if (watchers !== undefined)
            for (const session of watchers)
                session.deliverPosition(frame);
        for (const session of this.dashboards)
            if (watchers === undefined || !watchers.has(session))
                session.deliverPosition(frame);
    };
    closeTooSlow() {
        const now = Date.now();
        for (const session of this.behind) {
            const isTooLong = session.behindSince !== null && now - session.behindSince > this.maxBehindMs;
            if (isTooLong || session.connection.bufferedAmount() > this.hardLimitBytes) {
                this.opts.logger.info({ buffered: session.connection.bufferedAmount() }, 'closing a connection that reads too slowly');
                this.behind.delete(session);
                session.closeAsSlow();
            }
        }
    }
    // SessionHost: what sessions ask of the hub.
    getSnapshot(job) {
        return this.opts.getSnapshot(job);
    }
    eventsSince(job, since) {
        return this.opts.eventsSince(job, since);
    }
    dashboardSnapshots() {
        return this.opts.dashboardSnapshots();
    }
    withPosition(snapshot) {
        return this.opts.withPosition(snapshot);
    }
    watchJob(session, job) {
        let watchers = this.byJob.get(job);
        if (watchers === undefined)
            this.byJob.set(job, (watchers = new Watchers(job)));
        watchers.add(session);
        return watchers.job;
    }
    unwatchJob(session, job) {
        const watchers = this.byJob.get(job);
        if (watchers === undefined)
            return;
        watchers.delete(session);
        if (watchers.size === 0)
            this.byJob.delete(job);
    }
    watchAll(session, isOn) {
        if (isOn)
            this.dashboards.add(session);
        else
            this.dashboards.delete(session);
    }
    setBehind(session, isBehind) {
        if (isBehind)
            this.behind.add(session);
        else
            this.behind.delete(session);
    }
    onSessionClosed(session) {
        this.sessions.delete(session);
    }
    onSessionError(_session, err, job) {
        this.opts.logger.error({ err, job }, 'a subscription failed unexpectedly');
    }
}
//# sourceMappingURL=hub.js.map