// Appending to a job's log and telling the bus, as one step: every change to a job
// goes through here, so every listener sees exactly the events the store holds, in order.

import type { NewEvent, Snapshot } from '../protocol/types.js';
import type { Store } from '../store/store.js';
import type { EventBus } from './event-bus.js';

export class JobLog {
  constructor(
    readonly store: Store,
    readonly bus: EventBus,
  ) {}

  /** Creates the job (its `job.queued` event, seq 1) and publishes it. */
  async create(id: string, queued: Extract<NewEvent, { name: 'job.queued' }>): Promise<Snapshot> {
    const { event, snapshot } = await this.store.createJob(id, { ...queued, ts: queued.ts ?? Date.now() });
    this.bus.emit('event', event, snapshot);
    return snapshot;
  }

  /** Appends the event with the job's next seq and publishes it; resolves with the snapshot after it. */
  async append(id: string, event: NewEvent): Promise<Snapshot> {
    const appended = await this.store.append(id, { ...event, ts: event.ts ?? Date.now() } as NewEvent);
    this.bus.emit('event', appended.event, appended.snapshot);
    return appended.snapshot;
  }
}
