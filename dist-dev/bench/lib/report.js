// Small helpers every bench script uses to report: percentiles from a histogram, a
// plain-text table, the machine's conditions, and the results file.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
/** `bench/results/` in the repository (scripts run from `dist/bench/`). */
export const RESULTS_DIR = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
/** Writes `name.json` into bench/results/ and returns its path. */
export function writeResults(name, value) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const path = `${RESULTS_DIR}${name}.json`;
    writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
    return path;
}
/** Merges [value, count] histograms. */
export function mergeHistograms(histograms) {
    const merged = new Map();
    for (const h of histograms)
        for (const [value, n] of h)
            merged.set(value, (merged.get(value) ?? 0) + n);
    return merged;
}
/** The smallest value with at least `q` (0..1) of the counts at or below it; null when empty. */
export function quantile(histogram, q) {
    const values = [...histogram.keys()].sort((a, b) => a - b);
    const total = values.reduce((sum, v) => sum + histogram.get(v), 0);
    if (total === 0)
        return null;
    const target = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (const v of values) {
        seen += histogram.get(v);
        if (seen >= target)
            return v;
    }
    return values.at(-1);
}
/** Right-aligned columns under a header row, first column left-aligned. */
export function formatTable(rows) {
    const cells = rows.map((row) => row.map(String));
    const widths = cells[0].map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
    const line = (row) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  ');
    return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
/** What the figures depend on: CPU, cores, load, memory, Node, the open-file limit. */
export function machineConditions() {
    const limits = readOrNull('/proc/self/limits');
    const openFiles = limits === null ? null : (/Max open files\s+(\d+)/.exec(limits)?.[1] ?? null);
    return {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        loadavg1m: Number(loadavg()[0].toFixed(2)),
        memTotalMiB: Math.round(totalmem() / 2 ** 20),
        memFreeMiB: Math.round(freemem() / 2 ** 20),
        kernel: release(),
        node: process.version,
        openFilesLimit: openFiles === null ? null : Number(openFiles),
    };
}
export const machineCpu = {
    /** The machine's cumulative CPU counters now (user, nice, system, idle, iowait, irq, softirq, steal). */
    read() {
        const line = readOrNull('/proc/stat')?.split('\n')[0] ?? '';
        return line.split(/\s+/).slice(1, 9).map(Number);
    },
    /** The shares of each kind of time since `before` (a read()). */
    since(before) {
        const now = machineCpu.read();
        const d = now.map((v, i) => v - (before[i] ?? 0));
        const total = d.reduce((a, b) => a + b, 0) || 1;
        const pct = (n) => Math.round((n / total) * 100);
        const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = d;
        return { user: pct(user + nice), system: pct(system + irq), softirq: pct(softirq), steal: pct(steal), idle: pct(idle + iowait) };
    },
};
function readOrNull(path) {
    try {
        return readFileSync(path, 'utf8');
    }
    catch {
        return null;
    }
}
/** 12345678 -> "12,345,678". */
export function thousands(n) {
    return Math.round(n).toLocaleString('en-US');
}
//# sourceMappingURL=report.js.map