// A small WebSocket test client on the `ws` package: it records every message, folds
// events and snapshots per job with the shared reducer, counts seq gaps and duplicates,
// and lets tests await messages (`next`) instead of sleeping.
import WebSocket from 'ws';
import { applyEvent } from '../../server/protocol/reducer.js';
import { HANG_MS } from './patience.js';
/** What one client (or a series of clients resuming each other) knows about one job. */
export class JobView {
    /** The folded view; null until a snapshot or `job.queued` arrives. */
    snapshot = null;
    /** Seq of the last event or snapshot applied; 0 before any. */
    lastSeq = 0;
    /** Seq of every event received, in arrival order. */
    eventSeqs = [];
    /** Events whose seq was not lastSeq + 1 (`expected->got`) while a view existed. */
    gaps = [];
    /** Events received at or below lastSeq. */
    duplicates = [];
    snapshots = 0;
    positions = [];
    applySnapshot(snapshot) {
        this.snapshot = snapshot;
        this.lastSeq = snapshot.seq;
        this.snapshots++;
    }
    applyEvent(event) {
        this.eventSeqs.push(event.seq);
        if (event.seq <= this.lastSeq)
            return void this.duplicates.push(event.seq);
        if (event.seq !== this.lastSeq + 1)
            this.gaps.push(`${this.lastSeq + 1}->${event.seq}`);
        // Without a base (a resume that starts mid-job) there is nothing to fold onto.
        if (this.snapshot !== null || event.name === 'job.queued')
            this.snapshot = applyEvent(this.snapshot, event);
        this.lastSeq = event.seq;
    }
    applyPosition(position) {
        this.positions.push(position);
        if (this.snapshot !== null)
            this.snapshot = { ...this.snapshot, queuePosition: position };
    }
    get isFinal() {
        const status = this.snapshot?.status;
        return status === 'completed' || status === 'failed' || status === 'cancelled';
    }
}
/** Views by job; one tracker may be handed from a dropped connection to the next. */
export class Tracker {
    views = new Map();
    view(job) {
        let view = this.views.get(job);
        if (view === undefined)
            this.views.set(job, (view = new JobView()));
        return view;
    }
    apply(message) {
        if (message.type === 'snapshot')
            this.view(message.job.id).applySnapshot(message.job);
        else if (message.type === 'event')
            this.view(message.job).applyEvent(message);
        else if (message.type === 'position')
            this.view(message.job).applyPosition(message.position);
    }
}
export class WsClient {
    ws;
    tracker;
    /** Every message received, in order. */
    received = [];
    /** Date.now() at the arrival of each message of `received`. */
    receivedAt = [];
    /** The folded lastSeq of the message's job right after each message of `received` (null for none). */
    lastSeqAfter = [];
    /** Resolves once the connection is closed, with the close code the client saw. */
    closed;
    closeInfo = null;
    queue = [];
    waiter = null;
    constructor(ws, tracker) {
        this.ws = ws;
        this.tracker = tracker;
        ws.on('message', (data, isBinary) => this.wsOnMessage(data.toString(), isBinary));
        this.closed = new Promise((resolve) => {
            ws.once('close', (code, reason) => {
                this.closeInfo = { code, reason: reason.toString() };
                this.waiter?.reject(new Error(`connection closed (${code} ${reason.toString()}) while waiting for a message`));
                this.waiter = null;
                resolve(this.closeInfo);
            });
        });
        // Errors end in 'close' with a code (1006 for a reset), which is what tests look at.
        ws.on('error', () => { });
    }
    /** Sends a JSON message (or raw text when given a string). */
    send(message) {
        this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    }
    /**
     * The next message matching `predicate` (any message by default); messages before it
     * that do not match are dropped from the queue (they are still in `received` and folded).
     */
    next(predicate = () => true, timeoutMs = HANG_MS, what = 'a message') {
        if (this.waiter !== null)
            return Promise.reject(new Error('next() is already waiting'));
        while (this.queue.length > 0) {
            const message = this.queue.shift();
            if (predicate(message))
                return Promise.resolve(message);
        }
        if (this.closeInfo !== null)
            return Promise.reject(new Error(`connection closed (${this.closeInfo.code}) before ${what}`));
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.waiter = null;
                reject(new Error(`no ${what} within ${timeoutMs} ms; last received: ${JSON.stringify(this.received.slice(-3)).slice(0, 600)}`));
            }, timeoutMs);
            this.waiter = {
                predicate,
                resolve: (m) => (clearTimeout(timer), resolve(m)),
                reject: (err) => (clearTimeout(timer), reject(err)),
            };
        });
    }
    /** The next message of `type` (for `job` when given). */
    nextOf(type, job, timeoutMs = HANG_MS) {
        const isJob = (m) => job === undefined || jobOf(m) === job;
        return this.next((m) => m.type === type && isJob(m), timeoutMs, `${type}${job === undefined ? '' : ` for ${job}`}`);
    }
    /** Sends subscribe and resolves with `subscribed` (or the `error`) for that job. */
    async subscribe(job, since, timeoutMs = HANG_MS) {
        this.send({ op: 'subscribe', job, ...(since !== undefined && { since }) });
        const answer = await this.next((m) => (m.type === 'subscribed' || m.type === 'error') && m.job === job, timeoutMs, `subscribed for ${job}`);
        return answer;
    }
    /** The close code and reason once the connection is closed; rejects after `timeoutMs`. */
    waitClosed(timeoutMs = HANG_MS) {
        let timer;
        const timeout = new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`the connection was not closed within ${timeoutMs} ms`)), timeoutMs);
        });
        return Promise.race([this.closed, timeout]).finally(() => clearTimeout(timer));
    }
    /** Resolves once the view of `job` has folded a final status (the job ended). */
    async untilFinal(job, timeoutMs = HANG_MS) {
        const view = this.tracker.view(job);
        if (!view.isFinal)
            await this.next(() => this.tracker.view(job).isFinal, timeoutMs, `the end of job ${job}`);
        return view;
    }
    /** Sends a ping message and waits for its pong: every frame the server sent before is in by then. */
    async roundTrip(timeoutMs = HANG_MS) {
        this.send({ op: 'ping' });
        await this.next((m) => m.type === 'pong', timeoutMs, 'pong');
    }
    /**
     * The last seq this client had folded for the message's job when `message` arrived
     * (later messages of the same chunk may already be folded by the time a test looks).
     */
    lastSeqAt(message) {
        const index = this.received.lastIndexOf(message);
        if (index === -1)
            throw new Error('not a message this client received');
        return this.lastSeqAfter[index];
    }
    get isOpen() {
        return this.ws.readyState === WebSocket.OPEN;
    }
    wsOnMessage(text, isBinary) {
        if (isBinary)
            throw new Error('the server sent a binary frame');
        const message = JSON.parse(text);
        this.received.push(message);
        this.receivedAt.push(Date.now());
        this.tracker.apply(message);
        const job = jobOf(message);
        this.lastSeqAfter.push(job === undefined ? null : this.tracker.view(job).lastSeq);
        const waiter = this.waiter;
        if (waiter !== null && waiter.predicate(message)) {
            this.waiter = null;
            // Messages queued before this one did not match: the waiter skips them.
            this.queue.length = 0;
            waiter.resolve(message);
            return;
        }
        if (waiter === null)
            this.queue.push(message);
    }
}
/** The job id a message is about, if any. */
export function jobOf(message) {
    if (message.type === 'snapshot')
        return message.job.id;
    return 'job' in message && typeof message.job === 'string' ? message.job : undefined;
}
/** Opens `ws://.../ws` and resolves once open; closed (terminated) after the test. */
export async function connectWs(t, baseUrl, options = {}) {
    const url = `${baseUrl.replace(/^http/, 'ws')}/ws${options.query ?? ''}`;
    const ws = new WebSocket(url, { headers: options.headers, autoPong: options.autoPong ?? true, perMessageDeflate: false });
    const client = new WsClient(ws, options.tracker ?? new Tracker());
    t.after(() => ws.terminate());
    await new Promise((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
    });
    return client;
}
/** Waits until `condition()` holds, checking every few ms, or fails after `timeoutMs` (a hang). */
export async function waitFor(condition, what, timeoutMs = HANG_MS) {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
        if (Date.now() > deadline)
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
}
/** Asserts-by-message helper: the seqs 1..last each appear exactly once in `seqs`. */
export function checkExactlyOnce(seqs, last) {
    const counts = new Map();
    for (const seq of seqs)
        counts.set(seq, (counts.get(seq) ?? 0) + 1);
    const missing = [];
    const repeated = [];
    for (let seq = 1; seq <= last; seq++) {
        const n = counts.get(seq) ?? 0;
        if (n === 0)
            missing.push(seq);
        if (n > 1)
            repeated.push(seq);
    }
    const extra = [...counts.keys()].filter((seq) => seq < 1 || seq > last);
    if (missing.length + repeated.length + extra.length === 0)
        return null;
    return `missing ${JSON.stringify(missing)}, repeated ${JSON.stringify(repeated)}, out of range ${JSON.stringify(extra)}`;
}
//# sourceMappingURL=ws-client.js.map