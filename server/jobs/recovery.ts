// Restart recovery for a queue kept in this process (memory and SQLite stores): the
// queue lives in memory, so at start it is rebuilt from the store (SPEC 1). Jobs that
// were running when the process stopped go back to the queue with job.requeued (reason
// "restart"), in their creation order, and continue from their first unfinished file.
// A queue shared by processes (Redis) outlives each of them: it needs no rebuild, and a
// dead process's jobs come back through their expired leases (Queue.release) instead.

import type { Logger } from '../logger.js';
import type { Queue } from '../queue/queue.js';
import type { Store } from '../store/store.js';
import type { JobLog } from './job-log.js';

export interface RebuildOptions {
  store: Store;
  queue: Queue;
  log: JobLog;
  logger: Logger;
}

/** Queues every queued and running job of the store, oldest first; resolves with how many. */
export async function rebuildQueue({ store, queue, log, logger }: RebuildOptions): Promise<number> {
  const ids = await store.idsByStatus(['queued', 'running']);
  for (const id of ids) {
    const snapshot = await store.getSnapshot(id);
    if (snapshot === null) continue;
    const position = await queue.enqueue(id, snapshot.createdAt);
    // Without a fence: its owner's process is gone (Store.append).
    if (snapshot.status === 'running') await log.append(id, { name: 'job.requeued', data: { reason: 'restart', position } });
  }
  if (ids.length > 0) logger.info({ waiting: ids.length }, 'queue recovered from the store');
  return ids.length;
}
