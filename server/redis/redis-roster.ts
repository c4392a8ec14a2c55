// The Redis roster: every process sharing the store, from the heartbeats each keeps in
// Redis with an expiry (roster-scripts.ts). Heartbeats are timed on Redis's clock, as
// leases are; a list turns them into this process's clock, so that the ages it reports
// are right whatever the skew between the machines.

import type { ProcessInfo } from '../protocol/types.js';
import { byStart, MAX_LISTED, type ProcessReport, type Roster } from '../roster/roster.js';
import { guarded, type RedisClient } from './client.js';

export class RedisRoster implements Roster {
  constructor(
    private readonly client: RedisClient,
    /** --redis-prefix. */
    private readonly prefix: string,
  ) {}

  async report(report: ProcessReport, ttlMs: number): Promise<void> {
    await guarded(() => this.client.run('jcBeat', this.prefix, report.id, JSON.stringify(report), Math.ceil(ttlMs), MAX_LISTED));
  }

  async remove(id: string): Promise<void> {
    await guarded(() => this.client.run('jcLeave', this.prefix, id));
  }

  async list(): Promise<ProcessInfo[]> {
    // Ages are counted back from when the question was sent, not from when the answer was
    // read: Redis answered after that, so no heartbeat is placed later than it happened
    // (a busy process reads the answer tens of milliseconds late, and a process would have
    // seemed to leave the list before one lease after its last heartbeat).
    const localNow = Date.now();
    const reply = (await guarded(() => this.client.run('jcRoster', this.prefix, MAX_LISTED))) as string[];
    const redisNow = Number(reply[0]);
    const processes: ProcessInfo[] = [];
    for (let i = 1; i + 1 < reply.length; i += 2) {
      const report = JSON.parse(reply[i + 1]!) as ProcessReport;
      processes.push({ ...report, lastHeartbeatAt: localNow - Math.max(0, redisNow - Number(reply[i])) });
    }
    return processes.sort(byStart);
  }
}
