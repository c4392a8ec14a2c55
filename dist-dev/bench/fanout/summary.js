// The fan-out benchmark's report: a table with one column per server, the ratios
// jobcast / bare against the targets, and the compact form written to bench/results/.
import { formatTable, thousands } from '../lib/report.js';
/** Targets: jobcast delivers at least 0.8x the bare rate, and uses at most 1.3x its memory per idle subscriber. */
export const TARGETS = { throughputAtLeast: 0.8, memoryAtMost: 1.3 };
function ratio(a, b) {
    return a == null || b == null || b <= 0 ? null : Number((a / b).toFixed(2));
}
/** jobcast / bare for every jobcast server that ran. */
export function ratiosOf(results) {
    const bare = results.find((r) => r.server === 'bare ws' && r.error === undefined);
    const out = {};
    for (const r of results.filter((r) => r !== bare && r.error === undefined)) {
        out[r.server] = {
            throughput: ratio(r.burst?.deliveredPerSec, bare?.burst?.deliveredPerSec),
            cpuEfficiency: ratio(bare?.burst?.serverUsPerMessage, r.burst?.serverUsPerMessage),
            rssPerConn: ratio(r.memory?.rssPerConnBytes, bare?.memory?.rssPerConnBytes),
            heapPerConn: ratio(r.memory?.heapPerConnBytes, bare?.memory?.heapPerConnBytes),
        };
    }
    return out;
}
const kib = (bytes) => (bytes === undefined ? 'n/a' : (bytes / 1024).toFixed(1));
const latency = (l) => l === undefined ? 'n/a' : `${l.p50} / ${l.p99} / ${l.max}`;
const sumOf = (r, key) => [r.paced, ...r.bursts].reduce((n, p) => n + (p?.[key] ?? 0), 0);
const machine = (p) => p == null ? 'n/a' : `${p.machine.user}/${p.machine.system}/${p.machine.softirq}/${p.machine.idle}`;
/** The table and the ratio lines, for stdout. */
export function formatReport(results, s) {
    const ok = results.filter((r) => r.error === undefined);
    const col = (f) => ok.map(f);
    const rows = [
        ['', ...col((r) => r.server)],
        ['subscribers connected', ...col((r) => r.connections)],
        ['connect (+subscribe) ms', ...col((r) => r.connectMs)],
        ['idle RSS per conn KiB', ...col((r) => kib(r.memory?.rssPerConnBytes))],
        ['idle heapUsed per conn KiB', ...col((r) => kib(r.memory?.heapPerConnBytes))],
        [`paced ${1000 / s.pacedIntervalMs} ev/s: delivered msg/s`, ...col((r) => thousands(r.paced?.deliveredPerSec ?? 0))],
        ['paced latency p50/p99/max ms', ...col((r) => latency(r.paced?.latencyMs))],
        ['paced server CPU %', ...col((r) => r.paced?.server.cpuPercent ?? 'n/a')],
        [`burst ${s.burst} ev: delivered msg/s (median)`, ...col((r) => thousands(r.burst?.deliveredPerSec ?? 0))],
        [`  each of ${s.bursts} bursts, k msg/s`, ...col((r) => r.burst?.deliveredPerSecAll.map((n) => Math.round(n / 1000)).join(' ') ?? 'n/a')],
        ['burst latency p50/p99/max ms', ...col((r) => latency(r.burst?.latencyMs))],
        ['burst server CPU % (median)', ...col((r) => r.burst?.serverCpuPercent ?? 'n/a')],
        ['burst server CPU us per msg (median)', ...col((r) => r.burst?.serverUsPerMessage.toFixed(1) ?? 'n/a')],
        ['burst clients CPU % (median)', ...col((r) => r.burst?.clientCpuPercent ?? 'n/a')],
        ['burst others CPU % (median)', ...col((r) => r.burst?.otherCpuPercent ?? 'n/a')],
        ['last burst machine usr/sys/sirq/idle %', ...col((r) => machine(r.bursts.at(-1)))],
        ['received / expected (all phases)', ...col((r) => `${sumOf(r, 'received')} / ${sumOf(r, 'expected')}`)],
        ['gaps / dups / snapshots / closed', ...col((r) => `${sumOf(r, 'gaps')} / ${sumOf(r, 'duplicates')} / ${sumOf(r, 'snapshots')} / ${sumOf(r, 'closed')}`)],
        ['frame bytes', ...col((r) => r.bursts[0]?.frameBytes ?? 'n/a')],
    ];
    const frameBytes = ok[0]?.bursts[0]?.frameBytes ?? 0;
    const lines = [
        `Fan-out to ${s.clients} subscribers of one job, loopback, ${s.clientProcs} client processes per server`,
        `paced: ${s.pacedEvents} events, one every ${s.pacedIntervalMs} ms (one file's rate at the default --progress-interval);`,
        `burst: ${s.burst} events back to back, x${s.bursts} per server in turns; at most ~${Math.ceil((s.burst * frameBytes) / 1024)} KiB queued per client, ` +
            'far below the 1 MiB slow-reader soft limit, so no client should get a snapshot in place of events.',
        '',
        formatTable(rows),
        '',
    ];
    const show = (n) => (n === null ? 'n/a' : n.toFixed(2));
    for (const [server, r] of Object.entries(ratiosOf(results))) {
        const throughputOk = r.throughput !== null && r.throughput >= TARGETS.throughputAtLeast;
        const memoryOk = r.rssPerConn !== null && r.heapPerConn !== null && Math.max(r.rssPerConn, r.heapPerConn) <= TARGETS.memoryAtMost;
        lines.push(`${server} / bare ws: throughput ${show(r.throughput)} (>= ${TARGETS.throughputAtLeast}: ${throughputOk ? 'met' : 'MISSED'}; ` +
            `by server CPU per msg ${show(r.cpuEfficiency)}), ` +
            `idle memory per conn RSS ${show(r.rssPerConn)}, heapUsed ${show(r.heapPerConn)} (<= ${TARGETS.memoryAtMost}: ${memoryOk ? 'met' : 'MISSED'})`);
    }
    for (const r of results.filter((r) => r.error !== undefined))
        lines.push(`${r.server}: FAILED: ${r.error}`);
    return lines.join('\n');
}
/** The results without the latency histograms, for bench/results/fanout.json. */
export function compact(results) {
    const phase = (p) => (p === null ? null : { ...p, histogram: undefined });
    return results.map((r) => ({ ...r, paced: phase(r.paced), bursts: r.bursts.map(phase) }));
}
//# sourceMappingURL=summary.js.map