// The SQLite store's file: its tables, opening it with the pragmas durability needs, and
// bringing a file written by an older build up to this schema. sqlite-store.ts explains
// why the tables are shaped as they are.

import Database from 'better-sqlite3';
import { searchTextOf } from '../protocol/search.js';
import type { Snapshot } from '../protocol/types.js';

/**
 * Bumped when the schema changes; a file from a newer build is refused rather than misread.
 * 2: `job_search`, the text `GET /jobs?q=` looks in.
 */
const SCHEMA_VERSION = 2;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  -- AUTOINCREMENT: n is never reused, even after the newest job is deleted, so it is a
  -- stable creation order and list cursor.
  CREATE TABLE IF NOT EXISTS jobs (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    seq INTEGER NOT NULL,
    base_seq INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS bases (job_n INTEGER PRIMARY KEY, base TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS jobs_status_n ON jobs (status, n);
  CREATE INDEX IF NOT EXISTS jobs_finished_at ON jobs (finished_at) WHERE finished_at IS NOT NULL;
  CREATE TABLE IF NOT EXISTS events (
    job_n INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (job_n, seq)
  ) WITHOUT ROWID;
  -- The lowercased id, label and file names of each job (protocol/search.ts), written once
  -- at create: they never change. A table of its own, like bases, so that the per-append
  -- UPDATE of jobs never rewrites a 1000-file job's names.
  CREATE TABLE IF NOT EXISTS job_search (job_n INTEGER PRIMARY KEY, text TEXT NOT NULL);
`;

/**
 * Opens the file at `path` (or ':memory:'), creating or upgrading its tables.
 * Throws when SQLite refuses WAL mode or the file was written by a newer build.
 */
export function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  // `timeout` is SQLite's busy_timeout: this process is the only writer, but a backup or
  // an operator's sqlite3 shell may hold a lock for a moment.
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal' && path !== ':memory:') throw new Error(`${path}: SQLite refused WAL mode (got '${String(mode)}')`);
    // With WAL, NORMAL makes a commit a write() into the WAL file without an fsync: the
    // operating system holds it, so a crash or kill -9 of this process loses nothing
    // (SPEC 7). Surviving power loss or a kernel crash would need synchronous = FULL,
    // an fsync per commit, at a large cost in appends per second.
    db.pragma('synchronous = NORMAL');
    // The WAL is reused after each checkpoint at its largest size so far; past 64 MiB
    // (a reader that held off checkpoints for a while) it is cut back, so disk use stays bounded.
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    const version = Number(db.pragma('user_version', { simple: true }));
    if (version > SCHEMA_VERSION) {
      throw new Error(`${path} was written by a newer jobcast (schema ${version}, this build knows ${SCHEMA_VERSION})`);
    }
    db.transaction(() => {
      db.exec(SCHEMA);
      if (version < 2) fillSearchText(db);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Schema 1 had no job_search: every job's text comes from its base snapshot, which holds
 * the label and file names. Read in batches (a write cannot run while a read iterates,
 * and all bases at once could be gigabytes).
 */
function fillSearchText(db: Database.Database): void {
  const insert = db.prepare<[number, string]>('INSERT OR IGNORE INTO job_search (job_n, text) VALUES (?, ?)');
  const batch = db.prepare<[number], { n: number; base: string }>(
    'SELECT jobs.n AS n, bases.base AS base FROM jobs JOIN bases ON bases.job_n = jobs.n WHERE jobs.n > ? ORDER BY jobs.n LIMIT 200',
  );
  for (let after = 0; ; ) {
    const rows = batch.all(after);
    if (rows.length === 0) return;
    for (const row of rows) insert.run(row.n, searchTextOf(JSON.parse(row.base) as Snapshot));
    after = rows[rows.length - 1]!.n;
  }
}
