// The Store contract (server/store/store.ts), one suite for every implementation:
// gapless seqs, the snapshot as the fold of the log, trimming to --log-size, listing,
// deleting, closing, and the fence that keeps a job's log to its current owner.
// An implementation joins with one line in test/store.test.ts.

import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { foldEvents } from '../../server/protocol/reducer.js';
import type { JobStatus, NewEvent } from '../../server/protocol/types.js';
import type { Store } from '../../server/store/store.js';
import { ev, play, queued, realisticRun, rejectsWith, tick, type Queued } from './events.js';

/** Opens an empty store keeping `logSize` events per job, closed after the test. */
export type OpenStore = (t: TestContext, logSize: number) => Promise<Store>;
/** Opens one empty store as two processes see it (two connections): for stores shared by processes. */
export type OpenShared = (t: TestContext, logSize: number) => Promise<[Store, Store]>;

export function storeContract(name: string, open: OpenStore, openShared?: OpenShared): void {
  if (openShared !== undefined) sharedStoreContract(name, openShared);
  describe(`${name} store contract`, () => {
    test('numbers events 1..n without gaps and the snapshot is the fold of every event', async (t) => {
      const store = await open(t, 1000);
      const endings = { failed: ev.jobFailed, completed: ev.jobCompleted, cancelled: ev.jobCancelled } as const;
      for (const [status, end] of Object.entries(endings)) {
        const events = await play(store, `job-${status}`, realisticRun(12, end));
        const snapshot = await store.getSnapshot(`job-${status}`);
        assert.deepEqual(snapshot, foldEvents(null, events));
        assert.equal(snapshot?.status, status);
        assert.deepEqual(await store.eventsSince(`job-${status}`, 0), events);
      }
      const running = await play(store, 'job-running', realisticRun(5).slice(0, -2));
      assert.deepEqual(await store.getSnapshot('job-running'), foldEvents(null, running));
      assert.equal(await store.getSnapshot('nope'), null);
    });

    test('eventsSince answers at every boundary of a trimmed log', async (t) => {
      const store = await open(t, 5);
      await store.createJob('short', queued());
      const short = [...(await store.eventsSince('short', 0))!];
      assert.equal(short.length, 1);
      const events = await play(store, 'job-b', [ev.started(), ev.fileStarted(0), ...[1, 2, 3, 4, 5, 6, 7, 8].map((d) => ev.progress(0, d * 100)), ev.completed(0)]);
      const seq = events.length; // 12; the log keeps 8..12
      assert.equal(seq, 12);
      assert.deepEqual(await store.eventsSince('job-b', seq), []);
      assert.equal(await store.eventsSince('job-b', seq + 1), null, 'since > seq: a snapshot instead');
      assert.deepEqual(await store.eventsSince('job-b', seq - 1), events.slice(seq - 1));
      assert.deepEqual(await store.eventsSince('job-b', 9), events.slice(9));
      assert.deepEqual(await store.eventsSince('job-b', 7), events.slice(7), 'the oldest kept event is since + 1');
      assert.equal(await store.eventsSince('job-b', 6), null, 'older than the log');
      assert.equal(await store.eventsSince('job-b', 0), null);
      assert.equal(await store.eventsSince('job-b', -1), null);
      assert.equal(await store.eventsSince('job-b', 2.5), null);
      assert.equal(await store.eventsSince('unknown', 0), null);
      assert.deepEqual(await store.getSnapshot('job-b'), foldEvents(null, events));
    });

    for (const logSize of [1, 5, 1000]) {
      test(`the snapshot stays the fold of every event with logSize ${logSize}`, async (t) => {
        const store = await open(t, logSize);
        // Not finished, so that a last run of progress can follow (a finished job takes no more events).
        const run = [...realisticRun(130, () => ev.requeued('restart')), ev.started(), ev.fileStarted(2), ...Array.from({ length: 7 }, (_, i) => ev.progress(2, i))];
        const events = await play(store, 'long', run);
        assert.deepEqual(await store.getSnapshot('long'), foldEvents(null, events));
        const kept = await store.eventsSince('long', Math.max(0, events.length - logSize));
        assert.deepEqual(kept, events.slice(-logSize));
      });
    }

    test('rejects appends to unknown jobs, a second job.queued and a duplicate id', async (t) => {
      const store = await open(t, 10);
      await rejectsWith(store.append('ghost', ev.started()), 'job_not_found');
      await store.createJob('dup', queued());
      await assert.rejects(store.createJob('dup', queued()));
      await assert.rejects(store.append('dup', queued() as NewEvent), TypeError);
      assert.equal((await store.getSnapshot('dup'))?.seq, 1, 'failed calls leave the job alone');
      assert.equal((await store.append('dup', ev.started())).event.seq, 2);
    });

    test('appends to one job resolve in the order they were called', async (t) => {
      const store = await open(t, 1000);
      await store.createJob('order', queued());
      const resolved: number[] = [];
      const calls = Array.from({ length: 50 }, (_, i) => store.append('order', ev.progress(0, i)).then((a) => resolved.push(a.event.seq)));
      await Promise.all(calls);
      assert.deepEqual(resolved, Array.from({ length: 50 }, (_, i) => i + 2));
    });

    test('lists newest first across pages, with and without a status filter', async (t) => {
      const store = await open(t, 10);
      const ids = Array.from({ length: 7 }, (_, i) => `list-${i}`);
      for (const id of ids) await store.createJob(id, queued(1));
      for (const id of [ids[1]!, ids[3]!, ids[4]!]) await store.append(id, ev.started());
      await store.append(ids[4]!, ev.jobCancelled());
      const newestFirst = [...ids].reverse();
      assert.deepEqual(await pageIds(store, 3), [newestFirst.slice(0, 3), newestFirst.slice(3, 6), newestFirst.slice(6)]);
      assert.deepEqual(await pageIds(store, 7), [newestFirst], 'a full last page has next: null');
      assert.deepEqual(await pageIds(store, 500), [newestFirst]);
      assert.deepEqual(await pageIds(store, 2, 'queued'), [['list-6', 'list-5'], ['list-2', 'list-0']]);
      assert.deepEqual(await pageIds(store, 1, 'running'), [['list-3'], ['list-1']]);
      assert.deepEqual(await pageIds(store, 5, 'completed'), [[]]);
      const page = await store.list({ limit: 2, status: 'cancelled' });
      assert.deepEqual(page.jobs, [await store.getSnapshot('list-4')]);
      for (const cursor of ['', 'abc', '0', '-1', '1.5', ' 1', '01', '1e3', '99999999999999999999', 'MTA=']) {
        await rejectsWith(store.list({ limit: 2, cursor }), 'invalid_query');
      }
      for (const limit of [0, 501, 1.5, Number.NaN]) await rejectsWith(store.list({ limit }), 'invalid_query');
      await rejectsWith(store.list({ limit: 2, status: 'sleeping' as JobStatus }), 'invalid_query');
    });

    test('q finds jobs by a part of the id, label or a file name, ignoring case, with status and across pages', async (t) => {
      const store = await open(t, 10);
      const named = (label: string | null, names: string[]): Queued => {
        const files = names.map((name, index) => ({ index, name, size: 10, type: 'text/csv' }));
        return { name: 'job.queued', ts: tick(), data: { processor: 'sha256', label, failFast: false, files, position: 1 } };
      };
      await store.createJob('Search-A1', named('Nightly Export', ['reports/2024/january.csv']));
      await store.createJob('search-b2', named(null, ['photo.JPG', 'notes.txt']));
      await store.createJob('search-c3', named('thumbnails', ['Photo-2.png']));
      for (let i = 0; i < 5; i++) await store.createJob(`filler-${i}`, named('other', ['x.bin']));
      await store.append('search-c3', ev.started());
      const ids = async (query: Omit<Parameters<Store['list']>[0], 'limit'>, limit = 50) =>
        (await store.list({ limit, ...query })).jobs.map((s) => s.id);
      assert.deepEqual(await ids({ q: 'PHOTO' }), ['search-c3', 'search-b2'], 'file names, any case, newest first');
      assert.deepEqual(await ids({ q: 'export' }), ['Search-A1'], 'label');
      assert.deepEqual(await ids({ q: 'a1' }), ['Search-A1'], 'part of the id');
      assert.deepEqual(await ids({ q: '2024/jan' }), ['Search-A1'], 'folder parts of a name');
      assert.deepEqual(await ids({ q: '  notes.TXT ' }), ['search-b2'], 'surrounding blanks are ignored');
      assert.deepEqual(await ids({ q: 'photo', status: 'running' }), ['search-c3'], 'with a status');
      assert.deepEqual(await ids({ q: 'photo', status: 'completed' }), []);
      assert.deepEqual(await ids({ q: 'nothing like this' }), []);
      assert.deepEqual(await ids({ q: '%' }), [], 'no wildcards');
      assert.equal((await ids({ q: '' })).length, 8, 'a blank q lists every job');
      assert.equal((await ids({ q: '   ' })).length, 8);
      assert.deepEqual(await ids({ q: 'export\nx' }).catch((e: { code?: string }) => e.code), 'invalid_query', 'no control characters: a match never spans fields');
      await rejectsWith(store.list({ limit: 5, q: 'x'.repeat(201) }), 'invalid_query');
      assert.equal((await store.list({ limit: 5, q: 'x'.repeat(200) })).jobs.length, 0);
      // Paging: the cursor goes on below the last match, whatever lies between.
      const first = await store.list({ limit: 1, q: 'search' });
      assert.deepEqual(first.jobs.map((s) => s.id), ['search-c3']);
      const second = await store.list({ limit: 1, q: 'search', cursor: first.next! });
      assert.deepEqual(second.jobs.map((s) => s.id), ['search-b2']);
      const third = await store.list({ limit: 1, q: 'search', cursor: second.next! });
      assert.deepEqual([third.jobs.map((s) => s.id), third.next], [['Search-A1'], null]);
      // A deleted job is not found any more.
      await store.append('search-c3', ev.jobCancelled());
      await store.delete('search-c3');
      assert.deepEqual(await ids({ q: 'photo' }), ['search-b2']);
    });

    test('counts jobs by status and lists ids in creation order', async (t) => {
      const store = await open(t, 10);
      assert.deepEqual(await store.countByStatus(), { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 });
      for (const id of ['c0', 'c1', 'c2', 'c3']) await store.createJob(id, queued(1));
      await store.append('c2', ev.started());
      await store.append('c0', ev.started());
      await store.append('c3', ev.started());
      await store.append('c3', ev.jobCompleted());
      assert.deepEqual(await store.countByStatus(), { queued: 1, running: 2, completed: 1, failed: 0, cancelled: 0 });
      assert.deepEqual(await store.idsByStatus(['running', 'queued']), ['c0', 'c1', 'c2']);
      assert.deepEqual(await store.idsByStatus(['completed']), ['c3']);
      assert.deepEqual(await store.idsByStatus([]), []);
    });

    test('finishedBefore returns finished jobs older than a time, oldest first, at most limit', async (t) => {
      const store = await open(t, 10);
      for (const id of ['old-a', 'old-b', 'new', 'running']) await store.createJob(id, queued(1));
      await store.append('running', ev.started());
      await store.append('old-b', { name: 'job.cancelled', ts: 1000, data: { durationMs: 1 } });
      await store.append('old-a', { name: 'job.completed', ts: 2000, data: { durationMs: 1 } });
      await store.append('new', { name: 'job.failed', ts: 5000, data: { durationMs: 1, error: { code: 'x', message: 'y' } } });
      assert.deepEqual(await store.finishedBefore(3000, 10), ['old-b', 'old-a']);
      assert.deepEqual(await store.finishedBefore(3000, 1), ['old-b']);
      assert.deepEqual(await store.finishedBefore(2000, 10), ['old-b']);
      assert.deepEqual(await store.finishedBefore(Number.MAX_SAFE_INTEGER, 10), ['old-b', 'old-a', 'new']);
    });

    test('recentlyFinished returns the ids of the jobs that finished last, latest first, at most limit', async (t) => {
      const store = await open(t, 10);
      for (const id of ['a', 'b', 'c', 'd', 'running']) await store.createJob(id, queued(1));
      await store.append('running', ev.started());
      await store.append('b', { name: 'job.completed', ts: 3000, data: { durationMs: 1 } });
      await store.append('a', { name: 'job.cancelled', ts: 4000, data: { durationMs: 1 } });
      await store.append('d', { name: 'job.failed', ts: 1000, data: { durationMs: 1, error: { code: 'x', message: 'y' } } });
      assert.deepEqual(await store.recentlyFinished(10), ['a', 'b', 'd']);
      assert.deepEqual(await store.recentlyFinished(2), ['a', 'b']);
      assert.deepEqual(await store.recentlyFinished(0), []);
      await store.delete('b');
      assert.deepEqual(await store.recentlyFinished(10), ['a', 'd']);
    });

    test('delete forgets the job and its log', async (t) => {
      const store = await open(t, 10);
      await play(store, 'gone', [ev.started(), ev.jobCancelled()]);
      await store.createJob('kept', queued());
      assert.equal(await store.delete('gone'), true);
      assert.equal(await store.delete('gone'), false);
      assert.equal(await store.getSnapshot('gone'), null);
      assert.equal(await store.eventsSince('gone', 0), null);
      await rejectsWith(store.append('gone', ev.started()), 'job_not_found');
      assert.deepEqual((await store.list({ limit: 10 })).jobs.map((s) => s.id), ['kept']);
      assert.deepEqual(await store.countByStatus(), { queued: 1, running: 0, completed: 0, failed: 0, cancelled: 0 });
    });

    test('fencing: a new claim fences the previous owner off; its appends are refused and write nothing', async (t) => {
      const store = await open(t, 10);
      await store.createJob('f', queued());
      const first = await store.issueFence('f');
      await store.append('f', ev.started(), { fence: first });
      await store.append('f', ev.fileStarted(0), { fence: first });
      const second = await store.issueFence('f');
      assert.ok(second > first, `the second claim's token ${second} is above the first's ${first}`);
      const before = { snapshot: await store.getSnapshot('f'), log: await store.eventsSince('f', 0) };
      await rejectsWith(store.append('f', ev.progress(0, 10), { fence: first }), 'fenced');
      await rejectsWith(store.append('f', ev.jobCompleted(), { fence: first }), 'fenced');
      assert.deepEqual(await store.getSnapshot('f'), before.snapshot, 'a refused append leaves the snapshot');
      assert.deepEqual(await store.eventsSince('f', 0), before.log, 'and the log');
      const next = await store.append('f', ev.requeued('restart'), { fence: second });
      assert.equal(next.event.seq, before.snapshot!.seq + 1, 'no seq was spent on the refused appends');
    });

    test('fencing: an append without a fence (a cancel, a requeue at recovery) revokes the owner', async (t) => {
      const store = await open(t, 10);
      await store.createJob('cancelled', queued());
      const owner = await store.issueFence('cancelled');
      await store.append('cancelled', ev.started(), { fence: owner });
      await store.append('cancelled', ev.jobCancelled());
      await rejectsWith(store.append('cancelled', ev.fileStarted(0), { fence: owner }), 'fenced');
      assert.equal((await store.getSnapshot('cancelled'))?.status, 'cancelled');

      await store.createJob('recovered', queued());
      const lost = await store.issueFence('recovered');
      await store.append('recovered', ev.started(), { fence: lost });
      await store.append('recovered', ev.requeued('restart'));
      await rejectsWith(store.append('recovered', ev.fileStarted(0), { fence: lost }), 'fenced');
      const again = await store.issueFence('recovered');
      assert.ok(again > lost);
      assert.equal((await store.append('recovered', ev.started(), { fence: again })).event.seq, 4);
    });

    test('fencing: tokens are checked in call order, atomically with each append', async (t) => {
      const store = await open(t, 10);
      await store.createJob('order', queued());
      const owner = await store.issueFence('order');
      await store.append('order', ev.started(), { fence: owner });
      // Issued together, as an owner's progress and another process's claim can be.
      const before = store.append('order', ev.progress(0, 1), { fence: owner });
      const claim = store.issueFence('order');
      const after = store.append('order', ev.progress(0, 2), { fence: owner });
      assert.equal((await before).event.seq, 3);
      const taker = await claim;
      assert.ok(taker > owner);
      await rejectsWith(after, 'fenced');
      assert.equal((await store.append('order', ev.requeued('restart'), { fence: taker })).event.seq, 4);
    });

    test('fencing: epochs only grow; unknown jobs are refused', async (t) => {
      const store = await open(t, 10);
      await store.createJob('grow', queued());
      const tokens = [await store.issueFence('grow'), await store.issueFence('grow')];
      await store.append('grow', ev.requeued('store'));
      tokens.push(await store.issueFence('grow'));
      for (let i = 1; i < tokens.length; i++) assert.ok(tokens[i]! > tokens[i - 1]!, `tokens grow: ${tokens.join(', ')}`);
      await rejectsWith(store.issueFence('ghost'), 'job_not_found');
      await rejectsWith(store.append('ghost', ev.started(), { fence: 1 }), 'job_not_found');
    });

    test('a finished job takes no more events, with or without a fence', async (t) => {
      const store = await open(t, 10);
      await store.createJob('done', queued(1));
      const owner = await store.issueFence('done');
      for (const event of [ev.started(), ev.fileStarted(0), ev.completed(0), ev.jobCompleted()]) {
        await store.append('done', event, { fence: owner });
      }
      const final = await store.getSnapshot('done');
      await rejectsWith(store.append('done', ev.jobCancelled()), 'job_finished');
      await rejectsWith(store.append('done', ev.requeued('restart')), 'job_finished');
      await rejectsWith(store.append('done', ev.progress(0, 5), { fence: await store.issueFence('done') }), 'job_finished');
      assert.deepEqual(await store.getSnapshot('done'), final);
      assert.equal((await store.eventsSince('done', 0))?.length, 5);
    });

    test('close is idempotent and every later call rejects', async (t) => {
      const store = await open(t, 10);
      await store.createJob('x', queued());
      await store.ping();
      const closing = store.close();
      assert.equal(store.close(), closing, 'every caller gets the same promise');
      await closing;
      await store.close();
      await assert.rejects(store.append('x', ev.started()));
      await assert.rejects(store.createJob('y', queued()));
      await assert.rejects(store.getSnapshot('x'));
      await assert.rejects(store.issueFence('x'));
      await assert.rejects(store.ping());
    });
  });
}

async function pageIds(store: Store, limit: number, status?: JobStatus): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(status === undefined ? { limit, cursor } : { limit, status, cursor });
    pages.push(page.jobs.map((s) => s.id));
    cursor = page.next ?? undefined;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

/** What a store shared by processes must also hold to: each process checks fences and seqs against the same data. */
function sharedStoreContract(name: string, openShared: OpenShared): void {
  describe(`${name} store contract, two processes`, () => {
    test('a claim in one process fences the owner in the other; an ownerless append in one revokes an owner in the other', async (t) => {
      const [a, b] = await openShared(t, 10);
      await a.createJob('x', queued());
      const first = await a.issueFence('x');
      await a.append('x', ev.started(), { fence: first });
      const second = await b.issueFence('x');
      await rejectsWith(a.append('x', ev.progress(0, 10), { fence: first }), 'fenced');
      await b.append('x', ev.requeued('takeover'), { fence: second });
      await b.append('x', ev.started(), { fence: second });
      // `a` last saw seq 2: its cancel meets the newer log, is folded again and lands at seq 5.
      const cancelled = await a.append('x', ev.jobCancelled());
      assert.equal(cancelled.event.seq, 5);
      await rejectsWith(b.append('x', ev.fileStarted(0), { fence: second }), 'fenced');
      const events = (await b.eventsSince('x', 0))!;
      assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5]);
      assert.deepEqual(await a.getSnapshot('x'), foldEvents(null, events));
      assert.deepEqual(await b.getSnapshot('x'), foldEvents(null, events));
    });

    test('two processes appending to one job at once: seqs stay gapless, every event lands once', async (t) => {
      const [a, b] = await openShared(t, 1000);
      await a.createJob('both', queued());
      const appendMany = (store: Store, base: number) =>
        Promise.all(Array.from({ length: 30 }, (_, i) => store.append('both', ev.progress(0, base + i))));
      await Promise.all([appendMany(a, 100), appendMany(b, 500)]);
      const events = (await a.eventsSince('both', 0))!;
      assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 61 }, (_, i) => i + 1), 'gapless');
      const done = events.slice(1).map((e) => (e.data as { done: number }).done).sort((x, y) => x - y);
      const expected = [...Array.from({ length: 30 }, (_, i) => 100 + i), ...Array.from({ length: 30 }, (_, i) => 500 + i)];
      assert.deepEqual(done, expected, 'each append exactly once');
      assert.deepEqual(await b.getSnapshot('both'), foldEvents(null, events));
    });

    test('a process reads what the other wrote: snapshots, lists, counts and deletes', async (t) => {
      const [a, b] = await openShared(t, 5);
      const events = await play(a, 'shared', realisticRun(20, ev.jobCompleted));
      assert.deepEqual(await b.getSnapshot('shared'), foldEvents(null, events));
      assert.deepEqual(await b.eventsSince('shared', events.length - 3), events.slice(-3));
      assert.deepEqual((await b.list({ limit: 5 })).jobs.map((s) => s.id), ['shared']);
      assert.equal((await b.countByStatus()).completed, 1);
      assert.equal(await b.delete('shared'), true);
      assert.equal(await a.getSnapshot('shared'), null, 'gone for the other process too');
      await rejectsWith(a.append('shared', ev.jobCancelled()), 'job_not_found');
    });
  });
}
