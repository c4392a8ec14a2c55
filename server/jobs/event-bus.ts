// In-process fan-in point for everything that changes jobs: the HTTP long-poll
// (?wait), metrics and (next) the WebSocket hub listen here. A multi-process store
// feeds the same bus from its own pub/sub, so listeners never care where events come from.

import { EventEmitter } from 'node:events';
import type { JobEvent, PositionMessage, Snapshot } from '../protocol/types.js';

/** Listener signatures by bus event name. */
export interface BusEvents {
  /** A job's event was stored; `snapshot` is the job right after it. */
  event: [event: JobEvent, snapshot: Snapshot];
  /** A waiting job's queue position changed (not logged, not replayed: SPEC 3.2). */
  position: [message: PositionMessage];
  /** A finished job was deleted (DELETE or --retention). */
  deleted: [jobId: string];
}

/** A typed EventEmitter; listeners must not throw (they run inside the append path). */
export class EventBus extends EventEmitter<BusEvents> {
  constructor() {
    super();
    // Every ?wait request and every hub shard listens; the count is bounded by their own limits.
    this.setMaxListeners(0);
  }
}
