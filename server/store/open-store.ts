// Turns the --store setting into a Store.

import { ConfigError } from '../config.js';
import { createMemoryStore } from './memory-store.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store, StoreOptions } from './store.js';

/**
 * Opens the store named by `url` (--store, default `sqlite:./data/jobcast.db`):
 * `sqlite:PATH` is the durable single-process store, `memory` keeps nothing across
 * restarts. Rejects with ConfigError for anything else, including `redis://`, whose
 * store is shared by processes and opened with its queue and feed (backend.ts).
 */
export async function openStore(url: string, options: StoreOptions): Promise<Store> {
  if (url === 'memory') return createMemoryStore(options);
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '') throw new ConfigError("--store sqlite: needs a file path, like 'sqlite:./data/jobcast.db'");
    return openSqliteStore(path, options);
  }
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    throw new ConfigError('--store redis:// comes with its queue and feed: open it with openBackend');
  }
  throw new ConfigError(`--store must be sqlite:PATH or memory, got '${url}'`);
}
