// Fan-out benchmark: jobcast's hub against a bare `ws` broadcast, side by side.
//
// For each server (bare `ws`, jobcast on a temp sqlite file, jobcast on the memory
// store), with 5,000 WebSocket subscribers of one job on loopback, it measures:
// 1. Memory per idle subscriber: the server process's RSS and heapUsed after a forced
//    GC (the child runs with --expose-gc), before and after the 5,000 connections
//    (jobcast: each subscribed to the job; bare: just connected), divided by 5,000.
// 2. Latency at a paced rate: `file.progress` events at 10 per second, the rate one
//    running file produces at the default --progress-interval (100 ms).
// 3. Throughput: bursts of events emitted back to back (one event per turn of the
//    server's event loop). Delivered messages per second = messages received by all
//    clients / (last receipt - first send); latency = receipt time - the event's `ts`
//    (Date.now() on both sides, same machine: 1 ms resolution). The median of 3 bursts
//    is reported, because on a 2-core machine one burst's rate swings by up to +-30%
//    with the machine's other load; the server's CPU time per delivered message,
//    steadier, is reported beside it.
//    A burst (100 events, ~22 KB per client) stays far below the slow-reader soft limit
//    (1 MiB buffered per connection), so every client should get every event: the
//    clients count gaps, duplicates and any snapshot sent in place of events.
// jobcast events go in through service.log.append (store, reducer, bus, hub), as the
// job runner's do; the bare server stringifies the same event object once and runs
// `for (const c of wss.clients) c.send(buf)`. The frames are the same bytes but `ts`.
//
// Each server runs in its own child process with 2 client processes of its own, so
// client work never shares the server's event loop (it does share the machine's cores:
// the table shows the CPU of the server, of its clients and of everything else). All
// servers connect their clients first; then only one server is busy at a time, taking
// turns (paced phases, then burst rounds, each round starting with the next server), so
// that background load on the machine hits every server alike. Idle servers only hold
// their connections (jobcast pings them every 30 s, its default heartbeat).
// Each step has a timeout and the run a budget (--budget-s, 170 s): about 1.5 minutes
// on a quiet machine; on a busy one the burst rounds that would not fit are skipped.
//
// Run: npm run build && node dist/bench/fanout.js [--clients 5000] [--client-procs 2]
//      [--servers bare,sqlite,memory] [--burst 100] [--bursts 3] [--paced-events 30]
//      [--cpu-prof DIR]
// Prints a table and writes bench/results/fanout.json.
import { parseArgs } from 'node:util';
import { machineConditions, machineCpu, writeResults } from './lib/report.js';
import { ServerUnderTest } from './fanout/scenario.js';
import { compact, formatReport, ratiosOf, TARGETS } from './fanout/summary.js';
const SERVER_KINDS = ['bare', 'sqlite', 'memory'];
/** A 100-event burst to 5,000 clients takes 5-13 s here, depending on the machine's other load. */
const BURST_ESTIMATE_MS = 15_000;
function readSettings() {
    const { values } = parseArgs({
        options: {
            clients: { type: 'string', default: '5000' },
            'client-procs': { type: 'string', default: '2' },
            servers: { type: 'string', default: SERVER_KINDS.join(',') },
            burst: { type: 'string', default: '100' },
            bursts: { type: 'string', default: '3' },
            'paced-events': { type: 'string', default: '30' },
            'paced-interval': { type: 'string', default: '100' },
            'cpu-prof': { type: 'string' },
            'budget-s': { type: 'string', default: '170' },
        },
    });
    const int = (name, min) => {
        const n = Number(values[name]);
        if (!Number.isSafeInteger(n) || n < min)
            throw new Error(`--${name} must be a whole number of at least ${min}, got '${values[name]}'`);
        return n;
    };
    const servers = values.servers.split(',').map((s) => s.trim());
    for (const s of servers)
        if (!SERVER_KINDS.includes(s))
            throw new Error(`--servers takes ${SERVER_KINDS.join(', ')}; got '${s}'`);
    const settings = {
        clients: int('clients', 1),
        clientProcs: int('client-procs', 1),
        burst: int('burst', 1),
        bursts: int('bursts', 1),
        pacedEvents: int('paced-events', 1),
        pacedIntervalMs: int('paced-interval', 1),
        deadline: Date.now() + int('budget-s', 30) * 1000,
        cpuProfDir: values['cpu-prof'] ?? null,
    };
    return { settings, servers };
}
async function main() {
    const { settings, servers } = readSettings();
    const machine = machineConditions();
    console.log(`fanout: ${settings.clients} clients; ${machine.cores} x ${machine.cpu}, load ${machine.loadavg1m}, node ${machine.node}, open files ${machine.openFilesLimit}`);
    if (machine.openFilesLimit !== null && machine.openFilesLimit < settings.clients + 100) {
        console.error(`warning: ulimit -n is ${machine.openFilesLimit}; each server needs one descriptor per client`);
    }
    const background = await backgroundBusy();
    console.log(`background CPU before the run: ${background}% of the machine${background > 20 ? ' (busy: expect noisy figures)' : ''}`);
    // The last resort of the time bound: the children exit when this process goes away.
    setTimeout(() => {
        console.error('fanout: the time budget is spent by 30 s; giving up');
        process.exit(2);
    }, settings.deadline - Date.now() + 30_000).unref();
    const units = servers.map((kind) => new ServerUnderTest(kind, settings));
    try {
        await runAll(units, settings);
    }
    finally {
        await Promise.all(units.map((u) => u.stop()));
    }
    const results = units.map((u) => u.result);
    console.log(`\n${formatReport(results, settings)}`);
    const { deadline: _deadline, ...recorded } = settings;
    const path = writeResults('fanout', {
        at: new Date().toISOString(),
        machine: { ...machine, backgroundBusyPercent: background },
        settings: recorded,
        targets: TARGETS,
        ratios: ratiosOf(results),
        results: compact(results),
    });
    console.log(`\nwrote ${path}`);
    if (results.some((r) => r.error !== undefined))
        process.exitCode = 1;
}
/** Every server connects first; then each phase takes turns, each burst round starting with the next server. */
async function runAll(units, settings) {
    const step = async (what, run) => {
        const started = Date.now();
        await run();
        console.log(`  ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    };
    for (const u of units)
        await step(`${u.result.server}: connected ${settings.clients}`, () => u.connect());
    for (const u of units.filter((u) => u.isOk))
        await step(`${u.result.server}: paced`, () => u.paced());
    for (let round = 0; round < settings.bursts; round++) {
        // A round is skipped whole when it may not fit, so that every server keeps the same number of bursts.
        if (round > 0 && Date.now() + BURST_ESTIMATE_MS * units.length > settings.deadline) {
            console.error(`  skipping burst rounds ${round + 1}..${settings.bursts}: the time budget is nearly spent`);
            break;
        }
        for (let i = 0; i < units.length; i++) {
            const u = units[(round + i) % units.length];
            if (u.isOk)
                await step(`${u.result.server}: burst ${round + 1}`, () => u.burst());
        }
    }
    for (const u of units.filter((u) => !u.isOk))
        console.error(`${u.result.server}: FAILED: ${u.result.error}`);
}
/** Share of the machine's CPU busy over one second while this benchmark does nothing. */
async function backgroundBusy() {
    const before = machineCpu.read();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return 100 - machineCpu.since(before).idle;
}
main().catch((err) => {
    console.error(err);
    process.exit(1);
});
//# sourceMappingURL=fanout.js.map