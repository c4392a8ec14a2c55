// The client's side of the `*` subscription: who listens, and where its catch-up stands.

import type { ErrorInfo, JobEvent, Snapshot } from '../server/protocol/types.js';
import { Listeners } from './listeners.js';

export interface Dashboard {
  readonly listeners: Listeners<[ReadonlyMap<string, Snapshot>]>;
  readonly changeListeners: Listeners<[string, Snapshot | null, JobEvent | undefined]>;
  readonly errorListeners: Listeners<[ErrorInfo]>;
  isSettled: boolean;
  /** Listeners hear nothing before the first catch-up is over: they get the whole dashboard at once. */
  hasSettledOnce: boolean;
  /** Jobs heard of during the catch-up under way; at its end the others are dropped (gone from the server). */
  touched: Set<string> | null;
  /** A gap showed during the catch-up under way: read `*` again once it is over. */
  isStale: boolean;
}

export function createDashboard(): Dashboard {
  return {
    listeners: new Listeners(),
    changeListeners: new Listeners(),
    errorListeners: new Listeners(),
    isSettled: false,
    hasSettledOnce: false,
    touched: null,
    isStale: false,
  };
}
