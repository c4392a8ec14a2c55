// Caps on open TCP connections, in total (--max-connections) and per remote address
// (--max-connections-per-ip), over HTTP, SSE and WebSocket alike. Node's own
// server.maxConnections drops a socket without a word; here a socket over a limit is
// kept just long enough to answer its first request, or its WebSocket upgrade before
// upgrading, with 503 `too_many_connections` and `Connection: close`.
import { JobcastError } from '../errors.js';
import { rawErrorResponse, sendJson } from './respond.js';
/** A refused socket that sends no request within this is cut. */
const REFUSED_TIMEOUT_MS = 5000;
/**
 * Refused sockets waiting for their 503 are bounded too: past the limit plus this many,
 * Node drops new sockets outright (server.maxConnections), and each drop is logged.
 */
const REFUSAL_HEADROOM = 64;
/** At most one warning per this interval, however many connections are refused. */
const WARN_INTERVAL_MS = 10_000;
const RETRY_AFTER_S = '1';
const kRefusal = Symbol('jobcast.refusal');
export class ConnectionLimits {
    opts;
    /** Connections admitted and still open. */
    total = 0;
    byIp = new Map();
    /** Connections refused since start (logged, at most once per WARN_INTERVAL_MS). */
    refusedCount = 0;
    lastWarnAt = 0;
    /**
     * One 'close' listener shared by every admitted socket (`this` is the socket): a
     * closure per socket, with `once`'s wrapper, cost each idle WebSocket subscriber
     * about a tenth of its heap (bench/fanout.ts).
     */
    socketOnClose;
    constructor(opts) {
        this.opts = opts;
        const limits = this;
        this.socketOnClose = function () {
            // remoteAddress was read when the socket arrived, and Node keeps it after the close.
            limits.release(this.remoteAddress ?? 'unknown');
        };
    }
    /** Counts every socket of `server`; call before it listens. */
    attach(server) {
        server.maxConnections = this.opts.maxConnections + REFUSAL_HEADROOM;
        server.on('connection', (socket) => this.serverOnConnection(socket));
        server.on('drop', (data) => this.opts.logger.warn({ remoteAddress: data?.remoteAddress }, 'connection dropped: far past --max-connections'));
    }
    /** Wraps the request listener: a refused socket's request is answered 503 and the socket closed. */
    guard(listener) {
        return (req, res) => {
            const refusal = req.socket[kRefusal];
            if (refusal === undefined)
                return listener(req, res);
            req.resume();
            sendJson(res, refusal.status, refusal.toJSON(), { ...refusal.headers, connection: 'close' });
        };
    }
    /** For 'upgrade': answers a refused socket 503 before any upgrade and returns true. */
    refuseUpgrade(socket) {
        const refusal = socket[kRefusal];
        if (refusal === undefined)
            return false;
        socket.end(rawErrorResponse(refusal));
        return true;
    }
    /** Open admitted connections: in all, or from `ip`. */
    openCount(ip) {
        return ip === undefined ? this.total : (this.byIp.get(ip) ?? 0);
    }
    serverOnConnection(socket) {
        const ip = socket.remoteAddress ?? 'unknown';
        const fromIp = this.byIp.get(ip) ?? 0;
        const refusal = this.refusalFor(fromIp);
        if (refusal !== null) {
            socket[kRefusal] = refusal;
            socket.setTimeout(REFUSED_TIMEOUT_MS, () => socket.destroy());
            this.warnRefused(ip, refusal);
            return;
        }
        this.total++;
        this.byIp.set(ip, fromIp + 1);
        // A socket emits 'close' once.
        socket.on('close', this.socketOnClose);
    }
    release(ip) {
        this.total--;
        const left = (this.byIp.get(ip) ?? 1) - 1;
        if (left === 0)
            this.byIp.delete(ip);
        else
            this.byIp.set(ip, left);
    }
    refusalFor(fromIp) {
        const { maxConnections, maxConnectionsPerIp } = this.opts;
        const headers = { 'retry-after': RETRY_AFTER_S };
        if (this.total >= maxConnections) {
            return new JobcastError('too_many_connections', `the server already holds --max-connections (${maxConnections}) connections; close idle ones or retry later`, headers);
        }
        if (fromIp >= maxConnectionsPerIp) {
            return new JobcastError('too_many_connections', `your address already holds --max-connections-per-ip (${maxConnectionsPerIp}) connections; close some before opening more`, headers);
        }
        return null;
    }
    warnRefused(ip, refusal) {
        this.refusedCount++;
        const now = Date.now();
        if (now - this.lastWarnAt < WARN_INTERVAL_MS)
            return;
        this.lastWarnAt = now;
        this.opts.logger.warn({ remoteAddress: ip, refused: this.refusedCount, open: this.total }, refusal.message);
    }
}
//# sourceMappingURL=connection-limits.js.map