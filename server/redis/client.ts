// Connections to Redis: one for commands (store, queue, notices) and one per feed reader
// (its XREAD BLOCK would hold up every other command). Every script is registered with
// defineCommand, which sends EVALSHA and falls back to EVAL after a Redis restart emptied
// the script cache. A command that meets a Redis it cannot reach fails within about a
// second and becomes JobcastError('not_ready'), so requests are answered 503 rather than
// kept waiting; ioredis reconnects by itself and resends what was unanswered (every
// script that writes is safe to run twice: job-scripts.ts, queue-scripts.ts).

import { Redis, type RedisOptions } from 'ioredis';
import { JobcastError } from '../errors.js';
import { FEED_PUBLISH, FEED_READ, FEED_TAIL } from './feed-scripts.js';
import { APPEND, CREATE, DELETE, FENCE, LOAD, SEARCH, SINCE } from './job-scripts.js';
import { UNLOCK } from './lua-lib.js';
import { ACK, CLAIM, ENQUEUE, EXPIRED, PUT_BACK, RELEASE, REMOVE, RENEW } from './queue-scripts.js';
import { BEAT, LEAVE, ROSTER } from './roster-scripts.js';

const SCRIPTS = {
  jcCreate: CREATE,
  jcAppend: APPEND,
  jcLoad: LOAD,
  jcSince: SINCE,
  jcFence: FENCE,
  jcDelete: DELETE,
  jcSearch: SEARCH,
  jcEnqueue: ENQUEUE,
  jcClaim: CLAIM,
  jcRenew: RENEW,
  jcAck: ACK,
  jcPutBack: PUT_BACK,
  jcRemove: REMOVE,
  jcExpired: EXPIRED,
  jcRelease: RELEASE,
  jcFeedRead: FEED_READ,
  jcFeedTail: FEED_TAIL,
  jcFeedPublish: FEED_PUBLISH,
  jcUnlock: UNLOCK,
  jcBeat: BEAT,
  jcRoster: ROSTER,
  jcLeave: LEAVE,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** A connection with jobcast's scripts registered. */
export class RedisClient {
  constructor(readonly redis: Redis) {
    for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 0, lua });
  }

  /** Runs one of the scripts with its arguments (every key is derived from the prefix: the README lists them). */
  run(name: ScriptName, ...args: Array<string | number>): Promise<unknown> {
    const command = (this.redis as unknown as Record<ScriptName, (...a: Array<string | number>) => Promise<unknown>>)[name];
    return command.apply(this.redis, args);
  }

  /** True while the connection is up and ready for commands. */
  get isReady(): boolean {
    return this.redis.status === 'ready';
  }
}

/** How long a command waits for a lost connection to come back before it fails (about a second). */
const RETRIES_PER_REQUEST = 2;

/** Options shared by every connection jobcast opens. */
function connectionOptions(extra: RedisOptions): RedisOptions {
  return {
    // Reconnect quickly at first, then once a second, for as long as the process lives.
    retryStrategy: (times) => Math.min(times * 200, 1000),
    maxRetriesPerRequest: RETRIES_PER_REQUEST,
    connectTimeout: 5000,
    lazyConnect: true,
    ...extra,
  };
}

/**
 * Opens a connection to `url` (`redis://[user:pass@]host:port[/db]`, or `rediss://` for
 * TLS) and waits until it is ready. Rejects with a message naming the address (never the
 * password) when Redis cannot be reached within `timeoutMs`.
 */
export async function connectRedis(url: string, options: { name: string; blocking?: boolean; timeoutMs?: number }): Promise<RedisClient> {
  const redis = new Redis(
    url,
    connectionOptions({
      connectionName: options.name,
      // A reader blocked in XREAD waits for the connection however long it takes.
      ...(options.blocking === true ? { maxRetriesPerRequest: null } : {}),
    }),
  );
  // Errors are answered where commands fail; without a listener ioredis would print each reconnect attempt.
  redis.on('error', () => undefined);
  const timeoutMs = options.timeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${redactUrl(url)}: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  return new RedisClient(redis);
}

/** The URL without its password, for logs and messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * Reply errors that mean Redis cannot take the command now (out of memory under
 * noeviction, a failed snapshot blocking writes, loading its data at start, a read-only
 * replica, a busy script), not that the command is wrong.
 */
const UNAVAILABLE = /^(OOM|MISCONF|LOADING|READONLY|MASTERDOWN|BUSY|NOREPLICAS|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * Turns a failure of Redis itself (unreachable, reconnecting, out of memory, loading)
 * into JobcastError('not_ready'), answered 503 with Retry-After; anything else is
 * returned as it was (a bug, with its own message).
 */
export function redisFault(error: unknown): unknown {
  if (error instanceof JobcastError) return error;
  const err = error as { name?: string; message?: string } | null;
  const message = err?.message ?? String(error);
  const isReply = err?.name === 'ReplyError';
  if (isReply && !UNAVAILABLE.test(message)) return error;
  return new JobcastError('not_ready', `Redis cannot take commands now (${message}); retry later`, { 'retry-after': '5' });
}

/** Runs `call`, turning a failure of Redis itself into not_ready (redisFault). */
export async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw redisFault(err);
  }
}
