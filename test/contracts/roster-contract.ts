// The Roster contract (server/roster/roster.ts), one suite for every implementation: a
// report is listed with the time of its heartbeat on the reader's clock, a newer report
// replaces it, a removed one is gone at once, an expired one is gone and not before its
// time, and (for a shared roster) every process sees the others. An implementation
// joins with one line in test/roster.test.ts.

import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { ProcessReport, Roster } from '../../server/roster/roster.js';
import { HANG_MS } from '../helpers/patience.js';
import { until } from './events.js';

export interface RosterRig {
  roster: Roster;
  /** The same roster as another process sees it (a second connection); absent for a roster kept in one process. */
  otherProcess?: Roster;
}

/** Builds an empty roster; everything is closed after the test. */
export type OpenRoster = (t: TestContext) => Promise<RosterRig>;

const LONG_TTL_MS = 60_000;
/** Redis's TIME and Date.now() read one clock in whole milliseconds: a report's time can differ by rounding. */
const ROUNDING_MS = 2;

let pids = 1000;
function report(name: string, extra: Partial<ProcessReport> = {}): ProcessReport {
  const pid = pids++;
  return {
    id: `host-a:${pid}:server:${name}`,
    role: 'server',
    host: 'host-a',
    pid,
    jobs: [],
    workersBusy: 0,
    workers: 4,
    concurrency: 2,
    startedAt: 1_700_000_000_000 + pid,
    heartbeatMs: 5000,
    ...extra,
  };
}

interface Timed<T> {
  value: T;
  /** Date.now() before the call and after it resolved. */
  startedAt: number;
  endedAt: number;
}

async function timed<T>(call: () => Promise<T>): Promise<Timed<T>> {
  const startedAt = Date.now();
  const value = await call();
  return { value, startedAt, endedAt: Date.now() };
}

/**
 * The listed time of a heartbeat is within the report call, or earlier by at most the
 * list call's own duration: a roster on another clock (Redis's) converts it with the
 * trip of the list's answer, which no reader can know exactly (Roster.list). Both
 * bounds come from the calls themselves, so no slowness of the machine can break them.
 */
function assertHeartbeatTime(lastHeartbeatAt: number, beat: Timed<unknown>, list: Timed<unknown>): void {
  const earliest = beat.startedAt - (list.endedAt - list.startedAt) - ROUNDING_MS;
  const latest = beat.endedAt + ROUNDING_MS;
  assert.ok(lastHeartbeatAt >= earliest && lastHeartbeatAt <= latest, `${lastHeartbeatAt} within ${earliest}..${latest}`);
}

export function rosterContract(name: string, open: OpenRoster): void {
  describe(`${name} roster contract`, () => {
    test('a report is listed as sent, with the time of its heartbeat on the reader clock; a newer one replaces it', async (t) => {
      const { roster } = await open(t);
      assert.deepEqual(await roster.list(), []);
      const first = report('first', { jobs: ['job-a'], workersBusy: 1 });
      const firstBeat = await timed(() => roster.report(first, LONG_TTL_MS));
      const firstList = await timed(() => roster.list());
      const [listed, ...rest] = firstList.value;
      assert.deepEqual(rest, []);
      const { lastHeartbeatAt, ...sent } = listed!;
      assert.deepEqual(sent, first);
      assertHeartbeatTime(lastHeartbeatAt, firstBeat, firstList);

      const secondBeat = await timed(() => roster.report({ ...first, jobs: ['job-a', 'job-b'], workersBusy: 2 }, LONG_TTL_MS));
      const secondList = await timed(() => roster.list());
      const [again, ...none] = secondList.value;
      assert.deepEqual(none, [], 'still one process');
      assert.deepEqual(again!.jobs, ['job-a', 'job-b']);
      assert.equal(again!.workersBusy, 2);
      assertHeartbeatTime(again!.lastHeartbeatAt, secondBeat, secondList);
    });

    test('oldest started first; a removed process is gone at once, and removing twice does nothing', async (t) => {
      const { roster } = await open(t);
      const young = report('young', { startedAt: 3000 });
      const old = report('old', { startedAt: 1000, role: 'worker' });
      const mid = report('mid', { startedAt: 2000 });
      for (const r of [young, old, mid]) await roster.report(r, LONG_TTL_MS);
      assert.deepEqual((await roster.list()).map((p) => p.id), [old.id, mid.id, young.id]);
      await roster.remove(mid.id);
      assert.deepEqual((await roster.list()).map((p) => p.id), [old.id, young.id]);
      await roster.remove(mid.id);
      await roster.remove('never-there');
      assert.deepEqual((await roster.list()).map((p) => p.id), [old.id, young.id]);
    });

    test('a report not refreshed is gone after its time to live, and not before', async (t) => {
      const { roster } = await open(t);
      const ttlMs = 400;
      const lasting = report('lasting');
      const dying = report('dying');
      await roster.report(lasting, LONG_TTL_MS);
      const sentAt = Date.now();
      await roster.report(dying, ttlMs);
      let listed = await roster.list();
      // A slow machine may reach this list after the expiry: then only its absence can be checked.
      if (Date.now() < sentAt + ttlMs - ROUNDING_MS) assert.ok(listed.some((p) => p.id === dying.id), 'listed within its time to live');
      await until(
        async () => {
          listed = await roster.list();
          return !listed.some((p) => p.id === dying.id);
        },
        'the report to expire',
        HANG_MS,
      );
      assert.ok(Date.now() >= sentAt + ttlMs - ROUNDING_MS, 'gone only after its time to live');
      assert.deepEqual(listed.map((p) => p.id), [lasting.id], 'the refreshed one stays');
    });

    test('every process sharing the roster sees the others', async (t) => {
      const rig = await open(t);
      const { roster } = rig;
      // A roster kept by one process is its own other side.
      const otherProcess = rig.otherProcess ?? roster;
      const mine = report('mine', { startedAt: 1 });
      const theirs = report('theirs', { startedAt: 2, role: 'worker', host: 'host-b' });
      await roster.report(mine, LONG_TTL_MS);
      await otherProcess.report(theirs, LONG_TTL_MS);
      for (const view of [roster, otherProcess]) assert.deepEqual((await view.list()).map((p) => p.id), [mine.id, theirs.id]);
      await otherProcess.remove(theirs.id);
      assert.deepEqual((await roster.list()).map((p) => p.id), [mine.id], 'a removal is seen by the others');
    });
  });
}
