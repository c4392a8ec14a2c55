// The Redis queue: one FIFO for every process (SPEC 6). Each step that changes a claim
// or the waiting line is one script (queue-scripts.ts); positions and sizes are plain
// reads of the waiting set (ZRANK: logarithmic), so every process computes the same
// cluster-wide positions. Leases are measured on Redis's clock, not the processes'.

import { randomBytes } from 'node:crypto';
import type { Claim, ExpiredClaim, Queue, Released } from '../queue/queue.js';
import { guarded, type RedisClient } from './client.js';

/** Expired claims one check looks at: more wait for the next check. */
const EXPIRED_BATCH = 100;

export interface RedisQueueOptions {
  /** --redis-prefix. */
  prefix: string;
  /** Entries the feed stream keeps (approximately). */
  feedLength: number;
}

export class RedisQueue implements Queue {
  readonly #noncePrefix = randomBytes(6).toString('hex');
  #nonces = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly opts: RedisQueueOptions,
  ) {}

  async enqueue(id: string, enqueuedAt: number): Promise<number> {
    return Number(await this.#run('jcEnqueue', id, enqueuedAt, this.opts.feedLength));
  }

  async claim(owner: string, leaseMs: number): Promise<Claim | null> {
    const reply = await this.#json<[string, number] | null>('jcClaim', owner, Math.ceil(leaseMs), this.#nonce(), this.opts.feedLength);
    return reply === null ? null : { id: reply[0], fence: reply[1] };
  }

  async renew(claim: Claim, leaseMs: number): Promise<boolean> {
    return (await this.#run('jcRenew', claim.id, claim.fence, Math.ceil(leaseMs))) === 1;
  }

  async ack(claim: Claim): Promise<boolean> {
    return (await this.#run('jcAck', claim.id, claim.fence)) === 1;
  }

  async putBack(claim: Claim): Promise<number | null> {
    return this.#json<number | null>('jcPutBack', claim.id, claim.fence, this.#nonce(), this.opts.feedLength);
  }

  async remove(id: string): Promise<boolean> {
    return (await this.#run('jcRemove', id, this.opts.feedLength)) === 1;
  }

  async position(id: string): Promise<number | null> {
    const rank = await guarded(() => this.client.redis.zrank(this.#key('queue:waiting'), id));
    return rank === null ? null : rank + 1;
  }

  async size(): Promise<number> {
    return guarded(() => this.client.redis.zcard(this.#key('queue:waiting')));
  }

  async waiting(limit = Number.POSITIVE_INFINITY): Promise<string[]> {
    const stop = Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) - 1 : -1;
    if (stop < 0 && Number.isFinite(limit)) return [];
    return guarded(() => this.client.redis.zrange(this.#key('queue:waiting'), 0, stop));
  }

  async oldestEnqueuedAt(): Promise<number | null> {
    const oldest = await guarded(() => this.client.redis.zrange(this.#key('queue:enqueued'), 0, 0, 'WITHSCORES'));
    return oldest.length < 2 ? null : Number(oldest[1]);
  }

  async expired(): Promise<ExpiredClaim[]> {
    const list = await this.#json<Array<[string, number, string, number]>>('jcExpired', EXPIRED_BATCH);
    return list.map(([id, fence, owner, expiredAt]) => ({ id, fence, owner, expiredAt }));
  }

  async release(expired: ExpiredClaim): Promise<Released | null> {
    const reply = await this.#json<[number, number] | null>('jcRelease', expired.id, expired.fence, this.#nonce(), this.opts.feedLength);
    return reply === null ? null : { position: reply[0], fence: reply[1] };
  }

  /** The connection belongs to the backend, which closes it. */
  async close(): Promise<void> {}

  #key(name: string): string {
    return `${this.opts.prefix}${name}`;
  }

  #run(script: Parameters<RedisClient['run']>[0], ...args: Array<string | number>): Promise<unknown> {
    return guarded(() => this.client.run(script, this.opts.prefix, ...args));
  }

  async #json<T>(script: Parameters<RedisClient['run']>[0], ...args: Array<string | number>): Promise<T> {
    return JSON.parse(String(await this.#run(script, ...args))) as T;
  }

  /** Each non-idempotent call carries its own nonce: a resend after a reconnect gets the first answer (lua-lib.ts REPLY_CACHE). */
  #nonce(): string {
    return `${this.#noncePrefix}${(this.#nonces++).toString(36)}`;
  }
}
