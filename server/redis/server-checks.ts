// What jobcast requires of the Redis it is given, checked once at start (SPEC 6):
// Redis 7 or newer, a maxmemory-policy that never evicts (an evicted job record or log
// would break every guarantee silently), and persistence, without which a Redis restart
// loses every job (a warning: a demo may run without it).

import { ConfigError } from '../config.js';
import type { Logger } from '../logger.js';
import { redactUrl, type RedisClient } from './client.js';

/** What INFO says, as name -> value. */
function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** CONFIG GET `name`, or null where CONFIG is disabled or renamed (managed services often do that). */
async function configGet(client: RedisClient, name: string): Promise<string | null> {
  try {
    const reply = (await client.redis.config('GET', name)) as string[];
    return reply.length >= 2 ? reply[1]! : null;
  } catch {
    return null;
  }
}

/**
 * Throws ConfigError (the process exits with code 2) for a Redis older than 7 or one
 * whose maxmemory-policy may evict keys; logs a warning when append-only persistence is
 * off, and what the fsync policy means for a crash of Redis when it is on.
 */
export async function checkRedisServer(client: RedisClient, url: string, logger: Logger): Promise<void> {
  const info = parseInfo(await client.redis.info());
  const where = redactUrl(url);
  const version = info.get('redis_version') ?? '0';
  if (Number(version.split('.')[0]) < 7) {
    throw new ConfigError(`--store ${where}: Redis ${version} is too old; jobcast needs Redis 7 or newer`);
  }
  const policy = (await configGet(client, 'maxmemory-policy')) ?? info.get('maxmemory_policy') ?? 'unknown';
  if (policy !== 'noeviction') {
    throw new ConfigError(
      `--store ${where}: Redis has maxmemory-policy '${policy}', which may evict jobcast's keys and lose jobs; ` +
        'set maxmemory-policy noeviction (jobcast then answers 503 not_ready when Redis is full)',
    );
  }
  if (info.get('aof_enabled') !== '1') {
    logger.warn(
      { store: where },
      'Redis append-only persistence is off: a restart of Redis loses jobs and events; set appendonly yes (and appendfsync always for no loss on a crash of Redis)',
    );
    return;
  }
  const fsync = await configGet(client, 'appendfsync');
  if (fsync !== null && fsync !== 'always') {
    logger.info({ store: where, appendfsync: fsync }, 'Redis syncs its append-only file less than on every write: a crash of Redis may lose the last second of events');
  }
}
