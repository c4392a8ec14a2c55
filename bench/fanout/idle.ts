// The fan-out benchmark's idle-memory phase alone (fanout.ts --idle-only), for counts the
// full run cannot afford, such as 19,000 subscribers in one process. Per shape, each server
// in turn starts, connects every subscriber (jobcast: each waits for its `subscribed`
// reply), has its memory read after a forced GC (ServerUnderTest.connect, as in the full
// run), and stops before the next one starts. One server at a time rather than taking
// turns: each holds ~19,000 sockets and its clients as many again, and the figures are
// read at rest after a GC, not over time under load, so there is nothing to take turns for.

import { formatTable, thousands } from '../lib/report.js';
import { ServerUnderTest, type ScenarioResult, type ServerKind, type Settings, type Shape } from './scenario.js';
import { TARGETS } from './summary.js';

export interface IdleReport {
  shape: Shape;
  results: ScenarioResult[];
}

export async function runIdleOnly(servers: ServerKind[], shape: Shape, settings: Settings): Promise<IdleReport> {
  const results: ScenarioResult[] = [];
  for (const kind of servers) {
    const unit = new ServerUnderTest(kind, shape, settings);
    const started = Date.now();
    try {
      await unit.start();
      await unit.connect();
    } finally {
      await unit.stop();
    }
    const r = unit.result;
    const outcome = r.skipped !== undefined ? `skipped: ${r.skipped}` : r.error !== undefined ? `FAILED: ${r.error}` : `${thousands(r.clientsReady)} ready`;
    console.log(`  ${r.server}: ${outcome} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    results.push(r);
  }
  return { shape, results };
}

const mib = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : (bytes / 2 ** 20).toFixed(1));
const kib = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : (bytes / 1024).toFixed(2));

/** Every subscriber asked for got ready and the server holds them all. */
const allHeld = (r: ScenarioResult, shape: Shape): boolean => r.clientsReady === shape.clients && r.connections === shape.clients;

/** One shape's table, and the jobcast uws target line. */
export function formatIdle({ shape, results }: IdleReport): string {
  const ok = results.filter((r) => r.memory !== null);
  const col = <T>(f: (r: ScenarioResult) => T): T[] => ok.map(f);
  const watch = shape.watch === 'all' ? '`*`' : 'one job';
  const rows: Array<Array<string | number>> = [
    ['', ...col((r) => r.server)],
    ['subscribers asked for', ...col(() => thousands(shape.clients))],
    // Bare servers have no subscribe: their clients are ready once open.
    ['clients ready (jobcast: got `subscribed`)', ...col((r) => thousands(r.clientsReady))],
    ['connections the server holds', ...col((r) => thousands(r.connections))],
    ['all held', ...col((r) => (allHeld(r, shape) ? 'yes' : 'NO'))],
    ['connect time s', ...col((r) => (r.connectMs / 1000).toFixed(1))],
    ['server RSS before / after MiB', ...col((r) => `${mib(r.memory?.before.rss)} / ${mib(r.memory?.after.rss)}`)],
    ['server heapUsed before / after MiB', ...col((r) => `${mib(r.memory?.before.heapUsed)} / ${mib(r.memory?.after.heapUsed)}`)],
    ['idle RSS per subscriber KiB', ...col((r) => kib(r.memory?.rssPerConnBytes))],
    ['idle heapUsed per subscriber KiB', ...col((r) => kib(r.memory?.heapPerConnBytes))],
  ];
  const lines = [`== ${shape.name} idle only: ${thousands(shape.clients)} subscribers of ${watch}, memory after a forced GC`, '', formatTable(rows)];
  for (const r of results.filter((r) => r.skipped !== undefined)) lines.push(`${r.server}: skipped: ${r.skipped}`);
  for (const r of results.filter((r) => r.error !== undefined)) lines.push(`${r.server}: FAILED: ${r.error}`);
  const uws = ok.find((r) => r.kind === 'jobcast-uws');
  if (uws !== undefined) {
    const perSubKiB = uws.memory!.rssPerConnBytes / 1024;
    const limit = TARGETS.uws.rssPerIdleSubscriberKiB;
    lines.push(
      '',
      `Target jobcast uws: idle RSS per subscriber ${perSubKiB.toFixed(2)} KiB (<= ${limit}: ${perSubKiB <= limit ? 'met' : 'MISSED'}); ` +
        `${thousands(uws.clientsReady)} of ${thousands(shape.clients)} subscribed and held in one process (${allHeld(uws, shape) ? 'all' : 'NOT all'})`,
    );
  }
  return lines.join('\n');
}
