// Recording what the client SDK reports, and awaiting a condition on it with a
// deadline that only catches a hang: the tests wait for callbacks, never for the clock.
import WebSocket from 'ws';
import { createClient } from '../../client/jobcast-client.js';
import { HANG_MS } from './patience.js';
/** Everything a callback was called with, in order; `until` resolves once a value satisfies a predicate. */
export class Trace {
    values = [];
    waiters = [];
    /** The callback to hand to the SDK. */
    push = (value) => {
        this.values.push(value);
        const index = this.values.length - 1;
        for (const waiter of [...this.waiters]) {
            if (index >= waiter.from && waiter.test(value)) {
                this.waiters.splice(this.waiters.indexOf(waiter), 1);
                waiter.resolve(value);
            }
        }
    };
    get last() {
        return this.values.at(-1);
    }
    /** Resolves with the first value from index `from` on (default 0) that passes `test`; rejects after `timeoutMs`. */
    until(what, test, { from = 0, timeoutMs = HANG_MS } = {}) {
        const found = this.values.slice(from).find(test);
        if (found !== undefined)
            return Promise.resolve(found);
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.waiters.splice(this.waiters.indexOf(waiter), 1);
                reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(this.last)}`));
            }, timeoutMs);
            const waiter = {
                from,
                test,
                resolve: (value) => {
                    clearTimeout(timer);
                    resolve(value);
                },
            };
            this.waiters.push(waiter);
        });
    }
}
export function trackedWebSocket() {
    const sockets = [];
    const frames = [];
    class TrackedWebSocket extends WebSocket {
        constructor(url) {
            super(url);
            const socket = sockets.push(this) - 1;
            this.on('message', (data, isBinary) => {
                if (!isBinary)
                    frames.push({ socket, message: JSON.parse(String(data)) });
            });
        }
    }
    return { WebSocket: TrackedWebSocket, sockets, frames };
}
/**
 * A client on the real `ws` WebSocket (or the one given), quick to reconnect, closed after
 * the test. It pings only every HANG_MS unless told otherwise: a scripted peer does not
 * answer pings, and a test that is slow on a busy machine must not see its socket replaced.
 */
export function openClient(t, options) {
    const client = createClient({ WebSocket, backoff: { initialMs: 50, maxMs: 400 }, pingIntervalMs: HANG_MS, ...options });
    t.after(() => client.close());
    const states = new Trace();
    client.onConnectionState((state, detail) => states.push([state, detail]));
    return { client, states };
}
//# sourceMappingURL=sdk-trace.js.map