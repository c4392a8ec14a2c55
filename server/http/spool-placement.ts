// The spool and the store must not overlap. The spool holds job folders only and is
// swept at start; a database inside it (`--store sqlite:D/jobcast.db --spool-dir D`) sits
// where the server deletes what it does not recognise, and is one mistaken rule away from
// being deleted with its WAL files.

import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError } from '../config.js';

/**
 * Rejects with ConfigError (exit code 2, naming both settings) when the sqlite database
 * of `store` (`--store`) lies inside `spoolDir` (`--spool-dir`), symbolic links followed
 * as far as the paths exist. Other stores keep no files here.
 */
export async function assertSpoolApartFromStore(spoolDir: string, store: string): Promise<void> {
  if (!store.startsWith('sqlite:')) return;
  const database = await realPathSoFar(store.slice('sqlite:'.length));
  const spool = await realPathSoFar(spoolDir);
  const inside = relative(spool, database);
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) {
    throw new ConfigError(
      `--spool-dir (${spool}) contains the database of --store (${database}): the spool holds job folders only ` +
        'and is swept at start; give them separate folders, e.g. --store sqlite:./data/jobcast.db --spool-dir ./data/spool',
    );
  }
}

/** The absolute path with the symbolic links of its longest existing prefix resolved. */
async function realPathSoFar(path: string): Promise<string> {
  const absolute = resolve(path);
  const missing: string[] = [];
  for (let at = absolute; ; at = dirname(at)) {
    try {
      return join(await realpath(at), ...missing.reverse());
    } catch {
      if (dirname(at) === at) return absolute;
      missing.push(basename(at));
    }
  }
}
