// One server under test in the fan-out benchmark: its child process, its own client
// processes and connections, the idle-memory figures, and the phases run against it.
// fanout.ts starts every server first, then takes turns between them for each phase,
// so that a change in the machine's background load hits all of them alike.
import { fileURLToPath } from 'node:url';
import { ChildHandle } from '../lib/ipc.js';
import { mergeHistograms, quantile } from '../lib/report.js';
import { runPhase } from './phase.js';
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
/** Label of a server kind, as its child reports it. */
export function serverLabel(kind) {
    return kind === 'bare' ? 'bare ws' : `jobcast ${kind}`;
}
export class ServerUnderTest {
    kind;
    s;
    result;
    server;
    fleets;
    ctx = null;
    constructor(kind, s) {
        this.kind = kind;
        this.s = s;
        this.result = { server: serverLabel(kind), connections: 0, connectFailed: 0, connectMs: 0, memory: null, paced: null, bursts: [], burst: null };
        const script = here(kind === 'bare' ? './bare-server.js' : './jobcast-server.js');
        this.server = ChildHandle.fork(`${kind} server`, script, kind === 'bare' ? [] : [kind], {
            execArgv: ['--expose-gc', ...this.profileArgs(`${kind}-server`)],
        });
        this.fleets = Array.from({ length: s.clientProcs }, (_, i) => ChildHandle.fork(`${kind} clients ${i + 1}`, here('./clients.js'), [], { execArgv: this.profileArgs(`${kind}-clients-${i + 1}`) }));
    }
    get isOk() {
        return this.result.error === undefined;
    }
    /** Connects every client and measures memory per idle subscriber. */
    async connect() {
        await this.guard(async () => {
            const ready = await this.server.ready;
            await Promise.all(this.fleets.map((f) => f.ready));
            const before = await this.server.request('mem');
            const connected = await this.connectClients(ready);
            Object.assign(this.result, { connectFailed: connected.failed, connectMs: connected.ms });
            // Figures over fewer subscribers than asked for would compare unlike with unlike.
            if (connected.failed > 0)
                throw new Error(`${connected.failed} of ${this.s.clients} connections failed: ${connected.firstError}`);
            // Let the handshakes' garbage and the listen backlog settle before measuring.
            await new Promise((resolve) => setTimeout(resolve, 500));
            const after = await this.server.request('mem');
            const perConn = (key) => Math.round((after[key] - before[key]) / Math.max(1, after.connections));
            this.result.connections = after.connections;
            this.result.memory = { before, after, rssPerConnBytes: perConn('rss'), heapPerConnBytes: perConn('heapUsed') };
            this.ctx = { server: this.server, fleets: this.fleets, nextSeq: ready.nextSeq, deadline: this.s.deadline };
        });
    }
    async paced() {
        await this.guard(async () => {
            this.result.paced = await this.phase({ count: this.s.pacedEvents, intervalMs: this.s.pacedIntervalMs });
        });
    }
    async burst() {
        await this.guard(async () => {
            this.result.bursts.push(await this.phase({ count: this.s.burst, intervalMs: 0 }));
            this.result.burst = summariseBursts(this.result.bursts);
        });
    }
    /** Closes the clients and stops every child of this server (they write their profiles on the way out). */
    async stop() {
        await Promise.all(this.fleets.map((f) => f.request('close', null, 10_000).catch(() => { })));
        await Promise.all(this.fleets.map((f) => f.stop()));
        await this.server.stop();
    }
    async phase(produce) {
        if (this.ctx === null)
            throw new Error('not connected');
        const result = await runPhase(this.ctx, produce);
        this.ctx.nextSeq += produce.count;
        return result;
    }
    /** Runs a step unless an earlier one failed; a failure is recorded, and the server sits out the rest. */
    async guard(step) {
        if (!this.isOk)
            return;
        try {
            await step();
        }
        catch (err) {
            this.result.error = String(err?.message ?? err);
        }
    }
    /** With a profile directory, each child writes <dir>/<name>/CPU.*.cpuprofile when it exits (one per thread). */
    profileArgs(name) {
        return this.s.cpuProfDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${this.s.cpuProfDir}/${name}`];
    }
    async connectClients(ready) {
        const url = `ws://127.0.0.1:${ready.port}/ws`;
        const mode = this.kind === 'bare' ? 'bare' : 'jobcast';
        const { clients } = this.s;
        const timeoutMs = Math.max(1000, Math.min(60_000, this.s.deadline - Date.now()));
        const shares = this.fleets.map((_, i) => Math.floor(clients / this.fleets.length) + (i < clients % this.fleets.length ? 1 : 0));
        const results = await Promise.all(this.fleets.map((fleet, i) => fleet.request('connect', { url, count: shares[i], mode, job: ready.job, concurrency: 64 }, timeoutMs)));
        return {
            open: results.reduce((n, r) => n + r.open, 0),
            failed: results.reduce((n, r) => n + r.failed, 0),
            firstError: results.find((r) => r.firstError !== null)?.firstError ?? null,
            ms: Math.max(...results.map((r) => r.ms)),
        };
    }
}
function summariseBursts(bursts) {
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
    const latency = mergeHistograms(bursts.map((b) => [...b.histogram]));
    return {
        deliveredPerSec: median(bursts.map((b) => b.deliveredPerSec)),
        deliveredPerSecAll: bursts.map((b) => b.deliveredPerSec),
        latencyMs: { p50: quantile(latency, 0.5), p99: quantile(latency, 0.99), max: quantile(latency, 1) },
        serverCpuPercent: median(bursts.map((b) => b.server.cpuPercent)),
        serverUsPerMessage: median(bursts.map((b) => b.server.usPerMessage)),
        clientCpuPercent: median(bursts.map((b) => b.clientCpuPercent)),
        otherCpuPercent: median(bursts.map((b) => b.otherCpuPercent)),
    };
}
//# sourceMappingURL=scenario.js.map