// The Queue contract (server/queue/queue.ts), one suite for every implementation: one
// FIFO in creation order with 1-based positions, claims with leases and fence tokens the
// store honours, put back in creation order, remove, expired leases and their release,
// and a queueMoved notice for every change. An implementation joins with one line in
// test/queue.test.ts.

import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { Queue } from '../../server/queue/queue.js';
import type { Store } from '../../server/store/store.js';
import { ev, queued, rejectsWith, until } from './events.js';

export interface QueueRig {
  queue: Queue;
  /**
   * The same queue as another process sees it (a second connection), for the tests of
   * what two processes do at once. Absent for a queue kept in one process.
   */
  otherProcess?: Queue;
  /** The store whose epochs the claims bump: jobs are created here before they are queued. */
  store: Store;
  /** How many queueMoved notices the queue has published so far (as heard on the feed). */
  moves(): number;
}

/** Builds an empty queue over an empty store; everything is closed after the test. */
export type OpenQueue = (t: TestContext) => Promise<QueueRig>;

const OWNER = 'owner-a';
const LONG_LEASE_MS = 60_000;

/** Creates the jobs in the store and queues them in this order. */
async function enqueueJobs(rig: QueueRig, ids: string[]): Promise<number[]> {
  const positions: number[] = [];
  for (const id of ids) {
    await rig.store.createJob(id, queued(1));
    positions.push(await rig.queue.enqueue(id, Date.now()));
  }
  return positions;
}

async function positions(queue: Queue, ids: string[]): Promise<Array<number | null>> {
  return Promise.all(ids.map((id) => queue.position(id)));
}

async function claim(queue: Queue, leaseMs = LONG_LEASE_MS) {
  const claimed = await queue.claim(OWNER, leaseMs);
  assert.ok(claimed !== null, 'a job to claim');
  return claimed;
}

export function queueContract(name: string, open: OpenQueue): void {
  describe(`${name} queue contract`, () => {
    test('one FIFO: positions 1..n in creation order, claims from the front', async (t) => {
      const rig = await open(t);
      const { queue } = rig;
      assert.equal(await queue.claim(OWNER, LONG_LEASE_MS), null, 'nothing to claim');
      assert.deepEqual(await enqueueJobs(rig, ['a', 'b', 'c']), [1, 2, 3]);
      assert.equal(await queue.enqueue('b', Date.now()), 2, 'a waiting job keeps its place');
      assert.equal(await queue.size(), 3);
      assert.deepEqual(await queue.waiting(), ['a', 'b', 'c']);
      assert.deepEqual(await queue.waiting(2), ['a', 'b']);
      const first = await claim(queue);
      assert.equal(first.id, 'a');
      assert.deepEqual(await positions(queue, ['a', 'b', 'c', 'unknown']), [null, 1, 2, null]);
      assert.equal((await claim(queue)).id, 'b');
      assert.equal((await claim(queue)).id, 'c');
      assert.equal(await queue.claim(OWNER, LONG_LEASE_MS), null);
      assert.equal(await queue.size(), 0);
      assert.deepEqual(await queue.waiting(), []);
      await assert.rejects(queue.enqueue('a', Date.now()), 'a claimed job comes back through putBack only');
    });

    test('each claim bumps the job epoch: its fence token is the one the store accepts', async (t) => {
      const rig = await open(t);
      await enqueueJobs(rig, ['a']);
      const first = await claim(rig.queue);
      await rig.store.append('a', ev.started(), { fence: first.fence });
      assert.equal(await rig.queue.putBack(first), 1);
      await rig.store.append('a', ev.requeued(), { fence: first.fence });
      const second = await claim(rig.queue);
      assert.ok(second.fence > first.fence, `the second claim's token ${second.fence} is above ${first.fence}`);
      await rejectsWith(rig.store.append('a', ev.started(), { fence: first.fence }), 'fenced');
      await rig.store.append('a', ev.started(), { fence: second.fence });
    });

    test('claims at the same time, from every process, never hand out a job twice', async (t) => {
      const rig = await open(t);
      const ids = ['a', 'b', 'c', 'd', 'e'];
      await enqueueJobs(rig, ids);
      const queues = [rig.queue, rig.otherProcess ?? rig.queue];
      const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => queues[i % 2]!.claim(`owner-${i % 2}`, LONG_LEASE_MS)));
      const taken = claims.filter((c) => c !== null);
      assert.deepEqual(taken.map((c) => c.id).sort(), ids, 'each job exactly once');
      for (const c of taken) await rig.store.append(c.id, ev.started(), { fence: c.fence });
      assert.equal(await queues[1]!.size(), 0, 'every process sees the same line');
    });

    test('put back: a job regains its place by creation order, ahead of newer jobs', async (t) => {
      const rig = await open(t);
      const { queue } = rig;
      await enqueueJobs(rig, ['a', 'b', 'c']);
      const a = await claim(queue);
      const b = await claim(queue);
      await enqueueJobs(rig, ['d']);
      assert.equal(await queue.putBack(b), 1, 'b is older than c and d');
      assert.equal(await queue.putBack(a), 1);
      assert.deepEqual(await queue.waiting(), ['a', 'b', 'c', 'd']);
      assert.deepEqual(await positions(queue, ['a', 'b', 'c', 'd']), [1, 2, 3, 4]);
      assert.equal(await queue.putBack(a), null, 'a claim put back is no longer current');
    });

    test('ack forgets the claim; a claim that is not current cannot renew, ack or put back', async (t) => {
      const rig = await open(t);
      const { queue } = rig;
      await enqueueJobs(rig, ['a', 'b']);
      const a = await claim(queue);
      assert.equal(await queue.renew(a, LONG_LEASE_MS), true);
      assert.equal(await queue.ack(a), true);
      assert.equal(await queue.ack(a), false);
      assert.equal(await queue.renew(a, LONG_LEASE_MS), false);
      assert.equal(await queue.putBack(a), null);
      assert.deepEqual(await queue.waiting(), ['b'], 'an acked job does not come back');
      const b = await claim(queue);
      const forged = { id: b.id, fence: b.fence + 1 };
      assert.equal(await queue.renew(forged, LONG_LEASE_MS), false, 'another token is another claim');
      assert.equal(await queue.ack(forged), false);
      assert.equal(await queue.ack(b), true);
    });

    test('remove takes a waiting job out (cancel); false when it is not waiting', async (t) => {
      const rig = await open(t);
      const { queue } = rig;
      await enqueueJobs(rig, ['a', 'b', 'c']);
      const a = await claim(queue);
      assert.equal(await queue.remove('b'), true);
      assert.equal(await queue.remove('b'), false);
      assert.equal(await queue.remove(a.id), false, 'a claimed job is not waiting');
      assert.equal(await queue.remove('unknown'), false);
      assert.deepEqual(await positions(queue, ['b', 'c']), [null, 1]);
      assert.equal(await queue.size(), 1);
    });

    test('oldestEnqueuedAt is the earliest enqueue (or put back) of a waiting job', async (t) => {
      const rig = await open(t);
      const { queue } = rig;
      assert.equal(await queue.oldestEnqueuedAt(), null);
      for (const [id, at] of [['a', 5000], ['b', 3000], ['c', 4000]] as const) {
        await rig.store.createJob(id, queued(1));
        await queue.enqueue(id, at);
      }
      assert.equal(await queue.oldestEnqueuedAt(), 3000);
      assert.equal(await queue.remove('b'), true);
      assert.equal(await queue.oldestEnqueuedAt(), 4000);
      const a = await claim(queue);
      assert.equal(await queue.oldestEnqueuedAt(), 4000);
      await queue.putBack(a);
      assert.equal(await queue.oldestEnqueuedAt(), 4000, 'put back now: younger than c');
    });

    test('a lease that runs out is listed as expired until renewed; release takes it from its owner', async (t) => {
      const rig = await open(t);
      const { queue } = rig;
      await enqueueJobs(rig, ['short', 'long', 'next']);
      const short = await claim(queue, 1);
      const long = await claim(queue);
      await until(async () => (await queue.expired()).length > 0, 'the 1 ms lease to run out');
      const [expired, ...others] = await queue.expired();
      assert.deepEqual(others, [], 'a live lease is not listed');
      assert.deepEqual([expired!.id, expired!.fence, expired!.owner], ['short', short.fence, OWNER]);
      assert.equal(await queue.renew(short, LONG_LEASE_MS), true, 'renewed before anyone took it');
      assert.deepEqual(await queue.expired(), []);
      assert.equal(await queue.release(expired!), null, 'a renewed claim is not released');

      assert.equal(await queue.renew(short, 1), true);
      await until(async () => (await queue.expired()).length > 0, 'the lease to run out again');
      const again = (await queue.expired())[0]!;
      const taker = rig.otherProcess ?? queue;
      const released = await taker.release(again);
      assert.equal(released?.position, 1, 'back in its place, ahead of newer jobs');
      assert.ok(released.fence > short.fence, 'the release bumped the epoch');
      assert.equal(await taker.release(again), null, 'released once');
      assert.deepEqual(await queue.waiting(), ['short', 'next']);
      for (const [what, result] of [
        ['renew', await queue.renew(short, LONG_LEASE_MS)],
        ['ack', await queue.ack(short)],
        ['putBack', await queue.putBack(short)],
      ] as const) {
        assert.ok(result === false || result === null, `the old owner cannot ${what}`);
      }
      await rejectsWith(rig.store.append('short', ev.started(), { fence: short.fence }), 'fenced');
      await rig.store.append('short', ev.requeued('takeover'), { fence: released.fence });
      const taken = await claim(queue);
      assert.equal(taken.id, 'short');
      assert.ok(taken.fence > short.fence);
      assert.equal(await queue.ack(long), true, 'the other claim was left alone');
    });

    test('every change of the waiting line is announced (queueMoved)', async (t) => {
      const rig = await open(t);
      const { queue } = rig;
      const announced = async <T>(what: string, change: () => Promise<T>): Promise<T> => {
        const before = rig.moves();
        const result = await change();
        await until(() => rig.moves() > before, `a queueMoved notice after ${what}`);
        return result;
      };
      await announced('enqueue', () => enqueueJobs(rig, ['a', 'b', 'c']));
      const a = await announced('claim', () => claim(queue));
      await announced('remove', () => queue.remove('b'));
      await announced('putBack', () => queue.putBack(a));
      await claim(queue, 1);
      await until(async () => (await queue.expired()).length > 0, 'the lease to run out');
      const [expired] = await queue.expired();
      await announced('release', () => queue.release(expired!));
    });
  });
}
