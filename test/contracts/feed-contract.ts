// The Feed contract (server/feed/feed.ts), one suite for every implementation: every
// appended event reaches every listener of every process, in seq order per job, with the
// snapshot right after it; notices reach every process; a listener that may have missed
// entries is told so. An implementation joins with one line in test/feed.test.ts.

import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { Feed } from '../../server/feed/feed.js';
import type { JobLog } from '../../server/jobs/job-log.js';
import { foldEvents } from '../../server/protocol/reducer.js';
import type { JobEvent, NewEvent, Snapshot } from '../../server/protocol/types.js';
import type { Store } from '../../server/store/store.js';
import { ev, queued, until } from './events.js';

/** One process: its handle on the feed and the log it appends through (store + feed). */
export interface FeedProcess {
  feed: Feed;
  log: JobLog;
}

export interface FeedRig {
  /** The store every process appends to, for reading back what it holds. */
  store: Store;
  /** Processes sharing one feed; an in-process feed has exactly one. */
  processes: FeedProcess[];
  /**
   * Makes the listeners of `processes[index]` miss what is published while `during` runs,
   * as a dropped connection would. Absent where nothing can be missed (in-process).
   */
  loseEntries?(index: number, during: () => Promise<void>): Promise<void>;
}

/** Builds the processes over an empty store; everything is closed after the test. */
export type OpenFeed = (t: TestContext) => Promise<FeedRig>;

/** What one listener heard of one job's events. */
type Heard = Map<string, Array<{ event: JobEvent; snapshot: Snapshot }>>;

function listen(feed: Feed): Heard {
  const heard: Heard = new Map();
  feed.on('event', (event, snapshot) => {
    let list = heard.get(event.job);
    if (list === undefined) heard.set(event.job, (list = []));
    list.push({ event, snapshot });
  });
  return heard;
}

function count(heard: Heard): number {
  let n = 0;
  for (const list of heard.values()) n += list.length;
  return n;
}

/** A run of `files` files through `log`, as an owner appends it. */
async function run(log: JobLog, id: string, files: number): Promise<number> {
  await log.create(id, queued(files));
  const events: NewEvent[] = [ev.started()];
  for (let file = 0; file < files; file++) events.push(ev.fileStarted(file), ev.progress(file, 500), ev.completed(file));
  events.push(ev.jobCompleted());
  for (const event of events) await log.append(id, event);
  return events.length + 1;
}

export function feedContract(name: string, open: OpenFeed): void {
  describe(`${name} feed contract`, () => {
    test('every appended event reaches every listener of every process, in seq order, with the snapshot after it', async (t) => {
      const rig = await open(t);
      const listeners = rig.processes.flatMap((p) => [listen(p.feed), listen(p.feed)]);
      // Every process appends jobs of its own at the same time.
      const jobs = rig.processes.flatMap((_, i) => [`p${i}-a`, `p${i}-b`]);
      const counts = await Promise.all(jobs.map((id, j) => run(rig.processes[Math.floor(j / 2)]!.log, id, 2 + (j % 3))));
      const total = counts.reduce((a, b) => a + b, 0);
      for (const [i, heard] of listeners.entries()) await until(() => count(heard) >= total, `listener ${i} to hear ${total} events`);
      for (const heard of listeners) {
        assert.equal(count(heard), total, 'nothing twice');
        for (const id of jobs) {
          const stored = (await rig.store.eventsSince(id, 0))!;
          const got = heard.get(id)!;
          assert.deepEqual(got.map((h) => h.event), stored, `${id}: every stored event, in seq order`);
          got.forEach((h, i) => assert.deepEqual(h.snapshot, foldEvents(null, stored.slice(0, i + 1)), `${id}: the snapshot after seq ${i + 1}`));
        }
      }
    });

    test('notices reach every listener of every process, the publisher included, in the order published', async (t) => {
      const rig = await open(t);
      const heard = rig.processes.map((p) => {
        const list: string[] = [];
        p.feed.on('deleted', (job) => list.push(`deleted ${job}`));
        p.feed.on('cancel', (job) => list.push(`cancel ${job}`));
        p.feed.on('queueMoved', () => list.push('queueMoved'));
        return list;
      });
      const publisher = rig.processes[rig.processes.length - 1]!.feed;
      await publisher.publish({ kind: 'queueMoved' });
      await publisher.publish({ kind: 'cancel', job: 'c1' });
      await publisher.publish({ kind: 'deleted', job: 'd1' });
      await publisher.publish({ kind: 'queueMoved' });
      const expected = ['queueMoved', 'cancel c1', 'deleted d1', 'queueMoved'];
      for (const [i, list] of heard.entries()) {
        await until(() => list.length >= expected.length, `process ${i} to hear the notices`);
        assert.deepEqual(list, expected);
      }
    });

    test('a listener taken off hears nothing more; a closed feed delivers nothing', async (t) => {
      const rig = await open(t);
      const first = rig.processes[0]!;
      const stays = listen(first.feed);
      const leaving: JobEvent[] = [];
      const onEvent = (event: JobEvent): void => void leaving.push(event);
      first.feed.on('event', onEvent);
      await first.log.create('x', queued(1));
      await until(() => count(stays) === 1 && leaving.length === 1, 'both listeners to hear job.queued');
      first.feed.off('event', onEvent);
      await first.log.append('x', ev.started());
      await until(() => count(stays) === 2, 'the listener still on to hear job.started');
      assert.equal(leaving.length, 1, 'the listener taken off heard nothing more');

      const last = rig.processes[rig.processes.length - 1]!;
      const closedHeard: JobEvent[] = [];
      last.feed.on('event', (event) => closedHeard.push(event));
      await last.feed.close();
      await last.feed.close();
      await first.log.append('x', ev.fileStarted(0));
      if (last !== first) await until(() => count(stays) === 3, 'an open process to hear file.started');
      assert.deepEqual(closedHeard, [], 'a closed feed delivers nothing');
      assert.equal((await rig.store.getSnapshot('x'))?.seq, 3, 'appends go on: the store is not the feed');
    });

    test('a listener that may have missed entries is told with resync, and hears what follows', async (t) => {
      const rig = await open(t);
      if (rig.loseEntries === undefined) {
        // In-process delivery happens inside the append: there is nothing to miss, and no resync.
        const resyncs: number[] = [];
        rig.processes[0]!.feed.on('resync', () => resyncs.push(1));
        await run(rig.processes[0]!.log, 'never-missed', 2);
        assert.deepEqual(resyncs, []);
        return;
      }
      const index = rig.processes.length - 1;
      const listener = rig.processes[index]!;
      const heard = listen(listener.feed);
      let resyncs = 0;
      listener.feed.on('resync', () => resyncs++);
      const writer = rig.processes[0]!.log;
      await writer.create('lossy', queued(2));
      await until(() => count(heard) === 1, 'job.queued');
      await rig.loseEntries(index, async () => {
        await writer.append('lossy', ev.started());
        await writer.append('lossy', ev.fileStarted(0));
      });
      await until(() => resyncs > 0, 'a resync after the loss');
      await writer.append('lossy', ev.progress(0, 10));
      await until(() => heard.get('lossy')!.some((h) => h.event.seq === 4), 'the next event');
      const last = heard.get('lossy')!.at(-1)!;
      assert.deepEqual(last.snapshot, await rig.store.getSnapshot('lossy'), 'the snapshot after it is the stored one');
    });
  });
}
