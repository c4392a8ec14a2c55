// The fan-out benchmark's report: per shape, a table with one column per server and the
// ratios to bare `ws` from the same run; then the ratios of every shape against the
// targets; and the compact form written to bench/results/.

import { formatTable, thousands } from '../lib/report.js';
import type { PhaseResult } from './phase.js';
import type { RoundsSummary, ScenarioResult, Shape } from './scenario.js';

/**
 * Targets, as ratios to bare `ws` in the same run. jobcast ws: CPU per delivery and p99
 * within 1.1x at every size. jobcast uws: CPU per delivery at most 0.8x, bursts at least
 * 3x jobcast ws's rate with 1,000 subscribers, at most 2 KiB RSS per idle subscriber.
 */
export const TARGETS = {
  ws: { cpuPerDeliveryAtMost: 1.1, p99AtMost: 1.1 },
  uws: { cpuPerDeliveryAtMost: 0.8, burstRateVsJobcastWsAtLeast: 3, rssPerIdleSubscriberKiB: 2 },
};

export interface Ratios {
  /** Server CPU time per delivery in the steady phase, / bare ws's. */
  steadyCpu: number | null;
  /** p99 delivery latency in the steady phase, / bare ws's. */
  steadyP99: number | null;
  burstCpu: number | null;
  /** Deliveries per second in bursts (median), / bare ws's. */
  burstRate: number | null;
  rssPerConn: number | null;
}

export interface ShapeReport {
  shape: Shape;
  results: ScenarioResult[];
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a == null || b == null || b <= 0 ? null : Number((a / b).toFixed(2));
}

const BASELINE = 'bare ws';

/** Every server that ran / bare ws, in one shape. */
export function ratiosOf(results: ScenarioResult[]): Record<string, Ratios> {
  const bare = results.find((r) => r.server === BASELINE && r.error === undefined && r.skipped === undefined);
  const out: Record<string, Ratios> = {};
  for (const r of results.filter((r) => r !== bare && r.error === undefined && r.skipped === undefined)) {
    out[r.server] = {
      steadyCpu: ratio(r.steady?.serverUsPerDelivery, bare?.steady?.serverUsPerDelivery),
      steadyP99: ratio(r.steady?.latencyMs.p99, bare?.steady?.latencyMs.p99),
      burstCpu: ratio(r.burst?.serverUsPerDelivery, bare?.burst?.serverUsPerDelivery),
      burstRate: ratio(r.burst?.deliveredPerSec, bare?.burst?.deliveredPerSec),
      rssPerConn: ratio(r.memory?.rssPerConnBytes, bare?.memory?.rssPerConnBytes),
    };
  }
  return out;
}

const kib = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : (bytes / 1024).toFixed(1));
const latency = (l: { p50: number | null; p99: number | null; max: number | null } | undefined): string =>
  l === undefined ? 'n/a' : `${l.p50} / ${l.p99} / ${l.max}`;
const sumOf = (r: ScenarioResult, key: 'received' | 'expected' | 'gaps' | 'duplicates' | 'snapshots' | 'closed'): number =>
  [...r.steadyRounds, ...r.bursts].reduce((n, p) => n + p[key], 0);
const show = (n: number | null | undefined): string => (n == null ? 'n/a' : n.toFixed(2));
/** The server's CPU on its event loop / on its other threads, over all rounds. */
const threadSplit = (r: RoundsSummary | null): string => (r === null ? 'n/a' : `${r.eventLoopMs} / ${r.otherThreadsMs}`);
/** Each round's figure, for the spread. */
const each = (values: Array<number | null> | undefined, digits = 0): string => values?.map((n) => (n === null ? 'n/a' : n.toFixed(digits))).join(' ') ?? 'n/a';

/** What a shape sends: "`*` x 5,000, steady 10 ev/s (50,000 deliveries/s) for 40 events; 3 bursts of 40". */
export function describeShape(s: Shape): string {
  const perSec = 1000 / s.steadyIntervalMs;
  const watch = s.watch === 'all' ? '`*`' : 'one job';
  const bursts = s.bursts === 0 ? 'no bursts' : `${s.bursts} bursts of ${s.burstEvents} events back to back`;
  return (
    `${thousands(s.clients)} subscribers of ${watch}; ${s.steadyRounds} steady rounds of ${s.steadyEvents} events at ${perSec} events/s ` +
    `(${thousands(perSec * s.clients)} deliveries/s); ${bursts}; figures are medians over the rounds`
  );
}

/** One shape's table and its ratio lines, for stdout. */
export function formatShape({ shape, results }: ShapeReport): string {
  const ok = results.filter((r) => r.error === undefined && r.skipped === undefined);
  const col = <T>(f: (r: ScenarioResult) => T): T[] => ok.map(f);
  const ratios = ratiosOf(results);
  const vs = (f: (r: Ratios) => number | null): Array<string> => col((r) => (r.server === BASELINE ? '1' : show(ratios[r.server] ? f(ratios[r.server]!) : null)));
  const rows: Array<Array<string | number>> = [
    ['', ...col((r) => r.server)],
    ['subscribers connected', ...col((r) => r.connections)],
    ['idle RSS / heapUsed per subscriber KiB', ...col((r) => `${kib(r.memory?.rssPerConnBytes)} / ${kib(r.memory?.heapPerConnBytes)}`)],
    ['steady: server CPU us per delivery', ...col((r) => r.steady?.serverUsPerDelivery.toFixed(1) ?? 'n/a')],
    ['  each round', ...col((r) => each(r.steady?.usPerDeliveryAll, 1))],
    ['steady: server CPU % of one core', ...col((r) => r.steady?.serverCpuPercent ?? 'n/a')],
    ['  event loop / other threads, ms', ...col((r) => threadSplit(r.steady))],
    ['steady: latency p50 / p99 / max ms', ...col((r) => latency(r.steady?.latencyMs))],
    ['  p99 of each round', ...col((r) => each(r.steady?.p99All))],
    ['steady: clients / others CPU %', ...col((r) => (r.steady ? `${r.steady.clientCpuPercent} / ${r.steady.otherCpuPercent}` : 'n/a'))],
  ];
  if (shape.bursts > 0) {
    rows.push(
      ['burst: deliveries/s', ...col((r) => thousands(r.burst?.deliveredPerSec ?? 0))],
      ['  each burst, k/s', ...col((r) => r.burst?.deliveredPerSecAll.map((n) => Math.round(n / 1000)).join(' ') ?? 'n/a')],
      ['burst: server CPU us per delivery', ...col((r) => r.burst?.serverUsPerDelivery.toFixed(1) ?? 'n/a')],
      ['burst: latency p50 / p99 / max ms', ...col((r) => latency(r.burst?.latencyMs))],
    );
  }
  rows.push(
    ['received / expected', ...col((r) => `${sumOf(r, 'received')} / ${sumOf(r, 'expected')}`)],
    ['gaps / dups / snapshots / closed', ...col((r) => `${sumOf(r, 'gaps')} / ${sumOf(r, 'duplicates')} / ${sumOf(r, 'snapshots')} / ${sumOf(r, 'closed')}`)],
    ['vs bare ws: steady CPU per delivery', ...vs((r) => r.steadyCpu)],
    ['vs bare ws: steady p99', ...vs((r) => r.steadyP99)],
    ...(shape.bursts > 0 ? [['vs bare ws: burst deliveries/s', ...vs((r) => r.burstRate)]] : []),
    ['vs bare ws: idle RSS per subscriber', ...vs((r) => r.rssPerConn)],
  );
  const lines = [`== ${shape.name}: ${describeShape(shape)}`, '', formatTable(rows)];
  for (const r of results.filter((r) => r.skipped !== undefined)) lines.push(`${r.server}: skipped: ${r.skipped}`);
  for (const r of results.filter((r) => r.error !== undefined)) lines.push(`${r.server}: FAILED: ${r.error}`);
  return lines.join('\n');
}

/** Every shape's ratios against the targets: one line per shape and jobcast engine that ran. */
export function formatTargets(reports: ShapeReport[]): string {
  const lines = ['Targets (ratios to bare ws, same run):'];
  const mark = (isMet: boolean | null): string => (isMet === null ? 'n/a' : isMet ? 'met' : 'MISSED');
  for (const { shape, results } of reports) {
    const ratios = ratiosOf(results);
    const ws = ratios['jobcast ws'];
    if (ws !== undefined) {
      const cpuOk = ws.steadyCpu === null ? null : ws.steadyCpu <= TARGETS.ws.cpuPerDeliveryAtMost;
      const p99Ok = ws.steadyP99 === null ? null : ws.steadyP99 <= TARGETS.ws.p99AtMost;
      lines.push(
        `  ${shape.name} jobcast ws: CPU per delivery ${show(ws.steadyCpu)} (<= ${TARGETS.ws.cpuPerDeliveryAtMost}: ${mark(cpuOk)}), ` +
          `p99 ${show(ws.steadyP99)} (<= ${TARGETS.ws.p99AtMost}: ${mark(p99Ok)})`,
      );
    }
    const uws = ratios['jobcast uws'];
    const uwsResult = results.find((r) => r.kind === 'jobcast-uws');
    if (uws === undefined) {
      if (uwsResult?.skipped !== undefined) lines.push(`  ${shape.name} jobcast uws: skipped (${uwsResult.skipped})`);
      continue;
    }
    const vsWs = ratio(uwsResult?.burst?.deliveredPerSec, results.find((r) => r.kind === 'jobcast-ws')?.burst?.deliveredPerSec);
    const rssKiB = (uwsResult?.memory?.rssPerConnBytes ?? NaN) / 1024;
    const uwsCpuOk = uws.steadyCpu === null ? null : uws.steadyCpu <= TARGETS.uws.cpuPerDeliveryAtMost;
    // The burst target is set at 1,000 subscribers; other shapes show the ratio only.
    const burstOk = vsWs === null || shape.clients !== 1000 ? null : vsWs >= TARGETS.uws.burstRateVsJobcastWsAtLeast;
    const rssOk = Number.isNaN(rssKiB) ? null : rssKiB <= TARGETS.uws.rssPerIdleSubscriberKiB;
    lines.push(
      `  ${shape.name} jobcast uws: CPU per delivery ${show(uws.steadyCpu)} (<= ${TARGETS.uws.cpuPerDeliveryAtMost}: ${mark(uwsCpuOk)}), ` +
        `burst rate vs jobcast ws ${show(vsWs)} (>= ${TARGETS.uws.burstRateVsJobcastWsAtLeast} at 1,000: ${mark(burstOk)}), ` +
        `idle RSS per subscriber ${rssKiB.toFixed(1)} KiB (<= ${TARGETS.uws.rssPerIdleSubscriberKiB}: ${mark(rssOk)})`,
    );
  }
  return lines.join('\n');
}

/** The results without the latency histograms, for bench/results/fanout.json. */
export function compact(reports: ShapeReport[]): unknown[] {
  const phase = (p: PhaseResult) => ({ ...p, histogram: undefined });
  return reports.map(({ shape, results }) => ({
    shape,
    ratios: ratiosOf(results),
    results: results.map((r) => ({ ...r, steadyRounds: r.steadyRounds.map(phase), bursts: r.bursts.map(phase) })),
  }));
}
