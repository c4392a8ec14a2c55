// One measured phase of the fan-out benchmark: arm the clients with the seq range,
// have the server produce the events, collect what every client got.
import { availableParallelism } from 'node:os';
import { machineCpu, mergeHistograms, quantile } from '../lib/report.js';
/** Longest wait for the clients after the last event was sent. */
const DRAIN_TIMEOUT_MS = 60_000;
export async function runPhase(ctx, produce) {
    const remaining = ctx.deadline - Date.now();
    if (remaining < 5000)
        throw new Error('the time budget is spent');
    await Promise.all(ctx.fleets.map((f) => f.request('arm', { from: ctx.nextSeq, count: produce.count })));
    await ctx.server.request('mark');
    const cpuBefore = machineCpu.read();
    const collecting = ctx.fleets.map((f) => f.request('collect', { timeoutMs: Math.min(remaining, produce.count * produce.intervalMs + DRAIN_TIMEOUT_MS) }, remaining + 5000));
    const produced = await ctx.server.request('produce', produce, remaining);
    const stats = await Promise.all(collecting);
    const machine = machineCpu.since(cpuBefore);
    const usage = await ctx.server.request('usage');
    const result = summarise(produce, produced, stats, usage);
    const busyPercent = (100 - machine.idle) * availableParallelism();
    return { ...result, machine, otherCpuPercent: Math.max(0, Math.round(busyPercent - result.server.cpuPercent - result.clientCpuPercent)) };
}
function summarise(produce, produced, stats, usage) {
    const sum = (key) => stats.reduce((n, s) => n + s[key], 0);
    const connections = sum('connections');
    const received = sum('received');
    const lastRecvAt = Math.max(...stats.map((s) => s.lastRecvAt));
    const wallMs = Math.max(1, lastRecvAt - produced.firstSendAt);
    const latency = mergeHistograms(stats.map((s) => s.latency));
    const clientCpuMs = sum('cpuUserMs') + sum('cpuSystemMs');
    return {
        events: produce.count,
        intervalMs: produce.intervalMs,
        connections,
        expected: produce.count * connections,
        received,
        complete: sum('complete'),
        gaps: sum('gaps'),
        duplicates: sum('duplicates'),
        snapshots: sum('snapshots'),
        replaced: sum('replaced'),
        closed: sum('closed'),
        deliveredPerSec: Math.round((received / wallMs) * 1000),
        wallMs,
        produceMs: produced.lastSendAt - produced.firstSendAt,
        latencyMs: { p50: quantile(latency, 0.5), p99: quantile(latency, 0.99), max: quantile(latency, 1) },
        frameBytes: Math.max(...stats.map((s) => s.frameBytes)),
        server: {
            cpuPercent: Math.round(((usage.cpuUserMs + usage.cpuSystemMs) / usage.wallMs) * 100),
            elu: Number(usage.elu.toFixed(2)),
            cpuUserMs: Math.round(usage.cpuUserMs),
            cpuSystemMs: Math.round(usage.cpuSystemMs),
            usPerMessage: Number((((usage.cpuUserMs + usage.cpuSystemMs) * 1000) / Math.max(1, received)).toFixed(2)),
        },
        clientCpuPercent: Math.round((clientCpuMs / usage.wallMs) * 100),
        histogram: latency,
    };
}
//# sourceMappingURL=phase.js.map