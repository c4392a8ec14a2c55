// Benchmark child: a fleet of `ws` clients in one process. For jobcast each one
// subscribes to the job and waits for `subscribed`; for the bare server it just
// connects. During a phase every client checks that it gets each seq of the phase
// once and in order, and records delivery latency (receipt time minus the event's
// `ts`, both Date.now() on the same machine: 1 ms resolution).
//
// Usage (from bench/fanout.js): node clients.js
import { WebSocket } from 'ws';
import { serveParent } from '../lib/ipc.js';
const LATENCY_MAX_MS = 120_000;
class Fleet {
    sockets = [];
    /** Per connection: the next seq expected in the phase. */
    expectNext = new Float64Array(0);
    isDone = new Uint8Array(0);
    from = 0;
    last = -1;
    doneCount = 0;
    stats = Fleet.emptyStats(0);
    histogram = new Uint32Array(LATENCY_MAX_MS + 1);
    cpuAtArm = process.cpuUsage();
    onAllDone = null;
    async connect(args) {
        const started = Date.now();
        let next = 0;
        let failed = 0;
        let firstError = null;
        const worker = async () => {
            while (next < args.count) {
                next++;
                try {
                    this.sockets.push(await this.open(args));
                }
                catch (err) {
                    failed++;
                    firstError ??= String(err.message ?? err);
                }
            }
        };
        await Promise.all(Array.from({ length: Math.min(args.concurrency, args.count) }, worker));
        this.expectNext = new Float64Array(this.sockets.length);
        this.isDone = new Uint8Array(this.sockets.length);
        this.sockets.forEach((ws, i) => this.listen(ws, i));
        return { open: this.sockets.length, failed, firstError, ms: Date.now() - started };
    }
    arm({ from, count }) {
        this.from = from;
        this.last = from + count - 1;
        this.expectNext.fill(from);
        this.isDone.fill(0);
        this.doneCount = 0;
        this.stats = Fleet.emptyStats(this.sockets.length);
        this.histogram.fill(0);
        this.cpuAtArm = process.cpuUsage();
        this.sockets.forEach((ws, i) => ws.readyState !== WebSocket.OPEN && this.markDone(i));
        return null;
    }
    /** Resolves when every connection has the phase's last seq, or after `timeoutMs` with what arrived. */
    collect({ timeoutMs }) {
        return new Promise((resolve) => {
            const finish = () => {
                clearTimeout(timer);
                this.onAllDone = null;
                const cpu = process.cpuUsage(this.cpuAtArm);
                const latency = [];
                this.histogram.forEach((n, ms) => n > 0 && latency.push([ms, n]));
                resolve({ ...this.stats, complete: this.doneCount, latency, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000 });
            };
            const timer = setTimeout(finish, timeoutMs);
            this.onAllDone = finish;
            if (this.doneCount === this.sockets.length)
                finish();
        });
    }
    close() {
        for (const ws of this.sockets)
            ws.terminate();
        return null;
    }
    /** Opens one socket; for jobcast, resolves after `subscribed`. */
    open({ url, mode, job }) {
        return new Promise((resolve, reject) => {
            const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 20_000 });
            const fail = (err) => {
                ws.terminate();
                reject(err);
            };
            ws.once('error', fail);
            ws.once('close', (code) => reject(new Error(`closed with ${code} before it was ready`)));
            ws.once('open', () => {
                if (mode === 'bare')
                    return ready();
                ws.send(JSON.stringify({ op: 'subscribe', job }));
                ws.on('message', function onSubscribeReply(data) {
                    const message = JSON.parse(String(data));
                    if (message.type === 'error')
                        fail(new Error(`subscribe failed: ${message.code}`));
                    if (message.type !== 'subscribed')
                        return;
                    ws.off('message', onSubscribeReply);
                    ready();
                });
            });
            const ready = () => {
                ws.removeAllListeners('error');
                ws.removeAllListeners('close');
                resolve(ws);
            };
        });
    }
    listen(ws, i) {
        ws.on('message', (data) => this.onMessage(i, data));
        ws.on('error', () => this.stats.errors++);
        ws.on('close', () => {
            this.stats.closed++;
            this.markDone(i);
        });
    }
    onMessage(i, data) {
        const now = Date.now();
        const message = JSON.parse(data.toString());
        if (message.type === 'event') {
            const seq = message.seq;
            const expected = this.expectNext[i];
            if (seq < this.from || seq > this.last || seq < expected)
                return void this.stats.duplicates++;
            if (seq > expected)
                this.stats.gaps += seq - expected;
            this.stats.received++;
            this.stats.frameBytes = data.length;
            const latencyMs = now - message.ts;
            this.histogram[latencyMs < 0 ? 0 : latencyMs > LATENCY_MAX_MS ? LATENCY_MAX_MS : latencyMs]++;
            if (this.stats.firstRecvAt === 0)
                this.stats.firstRecvAt = now;
            this.stats.lastRecvAt = now;
            this.expectNext[i] = seq + 1;
            if (seq === this.last)
                this.markDone(i);
        }
        else if (message.type === 'snapshot') {
            // The slow-reader policy sent the whole job in place of the events this client could not take.
            const seq = message.job.seq;
            this.stats.snapshots++;
            if (seq + 1 > this.expectNext[i])
                this.stats.replaced += Math.min(seq, this.last) + 1 - this.expectNext[i];
            this.expectNext[i] = Math.max(this.expectNext[i], seq + 1);
            if (seq >= this.last)
                this.markDone(i);
        }
    }
    markDone(i) {
        if (this.isDone[i] === 1 || this.last < this.from)
            return;
        this.isDone[i] = 1;
        if (++this.doneCount === this.sockets.length)
            this.onAllDone?.();
    }
    static emptyStats(connections) {
        return {
            connections,
            complete: 0,
            received: 0,
            gaps: 0,
            duplicates: 0,
            snapshots: 0,
            replaced: 0,
            closed: 0,
            errors: 0,
            firstRecvAt: 0,
            lastRecvAt: 0,
            frameBytes: 0,
        };
    }
}
const fleet = new Fleet();
serveParent({
    connect: (args) => fleet.connect(args),
    arm: (args) => fleet.arm(args),
    collect: (args) => fleet.collect(args),
    close: () => fleet.close(),
}, { pid: process.pid });
//# sourceMappingURL=clients.js.map