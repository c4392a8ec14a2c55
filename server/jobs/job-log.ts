// Saving an event and publishing it, as one step (centrifuge's Broker publishes into
// history the same way): every change to a job goes through here, so every listener of
// the feed hears exactly the events the store holds, in order.

import type { Feed } from '../feed/feed.js';
import type { NewEvent, Snapshot } from '../protocol/types.js';
import type { AppendOptions, Store } from '../store/store.js';

export class JobLog {
  constructor(
    private readonly store: Store,
    private readonly feed: Feed,
  ) {}

  /** Creates the job (its `job.queued` event, seq 1) and publishes it. */
  async create(id: string, queued: Extract<NewEvent, { name: 'job.queued' }>): Promise<Snapshot> {
    const appended = await this.store.createJob(id, { ...queued, ts: queued.ts ?? Date.now() });
    this.feed.publishEvent(appended);
    return appended.snapshot;
  }

  /**
   * Appends the event with the job's next seq and publishes it; resolves with the
   * snapshot after it. `options.fence` is the owner's token (Store.append says which
   * appends go without one); a stale one rejects with JobcastError('fenced').
   */
  async append(id: string, event: NewEvent, options?: AppendOptions): Promise<Snapshot> {
    const appended = await this.store.append(id, { ...event, ts: event.ts ?? Date.now() } as NewEvent, options);
    this.feed.publishEvent(appended);
    return appended.snapshot;
  }
}
