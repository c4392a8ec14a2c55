// The SQLite store: one file, written by this process only (SPEC 7 durability).
//
// Schema, chosen so that an append costs a few small row writes whatever the job's size:
// - jobs: one small row per job, updated on every append (its last `seq`).
// - bases: the snapshot JSON folded up to the job's `base_seq`, rewritten only at
//   job-level transitions (job.*) and every min(100, logSize) events, never per progress
//   event: a 1000-file snapshot is about 230 KB of JSON. It has its own table because an
//   UPDATE of any column handles the whole record, overflow pages included: with the
//   JSON in the jobs row, progress appends on a 1000-file job ran four times slower.
// - events: the last `logSize` events of each job, keyed (job_n, seq) WITHOUT ROWID so
//   one job's log is contiguous in the b-tree and trimming deletes from its front.
// - job_search: the lowercased id, label and file names `GET /jobs?q=` looks in.
// The tables and their upgrades are in sqlite-schema.ts.
// The snapshot at `seq` is fold(base, events after base_seq). base_seq stays within
// min(100, logSize) - 1 of seq, so those events are always still in the log and a read
// folds at most 99 of them.

import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { JobcastError } from '../errors.js';
import { applyEvent } from '../protocol/reducer.js';
import { searchTextOf } from '../protocol/search.js';
import { JOB_STATUSES, isFinalStatus, type JobEvent, type JobStatus, type NewEvent, type Snapshot } from '../protocol/types.js';
import { Epochs } from './epochs.js';
import {
  checkAppendable,
  checkListQuery,
  checkStoreOptions,
  closedError,
  duplicateJob,
  emptyCounts,
  finishedError,
  jobNotFound,
  storedEvent,
} from './store-checks.js';
import { openDatabase } from './sqlite-schema.js';
import type { AppendOptions, Appended, Fence, ListPage, ListQuery, Store, StoreOptions } from './store.js';

/** Rewrite `base` at least this often (in events), so a cold read folds at most this many minus one. */
const MAX_EVENTS_AFTER_BASE = 100;

export interface SqliteStoreOptions extends StoreOptions {
  /**
   * Snapshots of queued and running jobs kept in memory, least recently used dropped
   * first (default 256). Only running jobs are hot, so a few hundred covers any
   * `--concurrency`; the bound keeps 10000 queued 1000-file jobs from holding gigabytes.
   */
  cachedJobs?: number;
  /** How long a write waits for a lock held by another connection, e.g. a backup (default 5000 ms). */
  busyTimeoutMs?: number;
}

interface JobRow {
  n: number;
  id: string;
  seq: number;
  base_seq: number;
  /** Null only in a damaged file: every job is created with its base. */
  base: string | null;
}
interface EventRow {
  seq: number;
  ts: number;
  name: string;
  data: string;
}
interface Hot {
  n: number;
  snapshot: Snapshot;
  baseSeq: number;
}

function prepareStatements(db: Database.Database) {
  const jobColumns = 'n, id, seq, base_seq, (SELECT base FROM bases WHERE bases.job_n = jobs.n) AS base';
  return {
    jobById: db.prepare<[string], JobRow>(`SELECT ${jobColumns} FROM jobs WHERE id = ?`),
    headById: db.prepare<[string], { n: number; seq: number }>('SELECT n, seq FROM jobs WHERE id = ?'),
    insertJob: db.prepare<[string, JobStatus, number, number, number]>(
      'INSERT INTO jobs (id, status, created_at, finished_at, seq, base_seq) VALUES (?, ?, ?, NULL, ?, ?)',
    ),
    putBase: db.prepare<[number, string]>(
      'INSERT INTO bases (job_n, base) VALUES (?, ?) ON CONFLICT (job_n) DO UPDATE SET base = excluded.base',
    ),
    setSeq: db.prepare<[number, number]>('UPDATE jobs SET seq = ? WHERE n = ?'),
    setBaseSeq: db.prepare<[number, number, JobStatus, number | null, number]>(
      'UPDATE jobs SET seq = ?, base_seq = ?, status = ?, finished_at = ? WHERE n = ?',
    ),
    insertEvent: db.prepare<[number, number, number, string, string]>(
      'INSERT INTO events (job_n, seq, ts, name, data) VALUES (?, ?, ?, ?, ?)',
    ),
    trimEvents: db.prepare<[number, number]>('DELETE FROM events WHERE job_n = ? AND seq <= ?'),
    eventsAfter: db.prepare<[number, number], EventRow>(
      'SELECT seq, ts, name, data FROM events WHERE job_n = ? AND seq > ? ORDER BY seq',
    ),
    listAll: db.prepare<[number, number], JobRow>(`SELECT ${jobColumns} FROM jobs WHERE n < ? ORDER BY n DESC LIMIT ?`),
    listByStatus: db.prepare<[JobStatus, number, number], JobRow>(
      `SELECT ${jobColumns} FROM jobs WHERE status = ? AND n < ? ORDER BY n DESC LIMIT ?`,
    ),
    // instr() rather than LIKE: no wildcards to escape, and both sides are lowercased in JS
    // (LIKE folds ASCII only). Walks jobs newest first and stops at the page's last match.
    listSearch: db.prepare<[string, number, number], JobRow>(
      `SELECT ${jobColumns} FROM jobs JOIN job_search ON job_search.job_n = jobs.n
       WHERE instr(job_search.text, ?) > 0 AND n < ? ORDER BY n DESC LIMIT ?`,
    ),
    listSearchByStatus: db.prepare<[string, JobStatus, number, number], JobRow>(
      `SELECT ${jobColumns} FROM jobs JOIN job_search ON job_search.job_n = jobs.n
       WHERE instr(job_search.text, ?) > 0 AND status = ? AND n < ? ORDER BY n DESC LIMIT ?`,
    ),
    insertSearch: db.prepare<[number, string]>('INSERT INTO job_search (job_n, text) VALUES (?, ?)'),
    deleteSearch: db.prepare<[number]>('DELETE FROM job_search WHERE job_n = ?'),
    idsByStatus: db.prepare<[JobStatus], { n: number; id: string }>('SELECT n, id FROM jobs WHERE status = ? ORDER BY n'),
    countByStatus: db.prepare<[], { status: JobStatus; count: number }>(
      'SELECT status, count(*) AS count FROM jobs GROUP BY status',
    ),
    // The partial index on finished_at serves this without touching a snapshot.
    recentlyFinished: db
      .prepare<[number], string>('SELECT id FROM jobs WHERE finished_at IS NOT NULL ORDER BY finished_at DESC, n DESC LIMIT ?')
      .pluck(),
    finishedBefore: db
      .prepare<[number, number], string>(
        'SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ? ORDER BY finished_at LIMIT ?',
      )
      .pluck(),
    deleteEvents: db.prepare<[number]>('DELETE FROM events WHERE job_n = ?'),
    deleteBase: db.prepare<[number]>('DELETE FROM bases WHERE job_n = ?'),
    deleteJob: db.prepare<[number]>('DELETE FROM jobs WHERE n = ?'),
    pingWrite: db.prepare<[string]>(
      "INSERT INTO meta (key, value) VALUES ('ping', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ),
    pingRead: db.prepare<[], string>("SELECT value FROM meta WHERE key = 'ping'").pluck(),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

function eventOfRow(id: string, row: EventRow): JobEvent {
  return { type: 'event', job: id, seq: row.seq, ts: row.ts, name: row.name, data: JSON.parse(row.data) } as JobEvent;
}

class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #sql: Statements;
  readonly #logSize: number;
  readonly #rebaseEvery: number;
  readonly #cachedJobs: number;
  /** Current snapshots of non-final jobs; this process is the file's only writer, so they never go stale. */
  readonly #hot = new Map<string, Hot>();
  /** Fence tokens: this process is the file's only writer, so they live here (epochs.ts). */
  readonly #epochs = new Epochs();
  #closing: Promise<void> | null = null;
  readonly #createTx: (id: string, event: JobEvent, json: string, base: Snapshot) => number;
  readonly #appendTx: (n: number, event: JobEvent, json: string, base: Snapshot | null) => void;
  readonly #deleteTx: (n: number) => void;

  constructor(db: Database.Database, options: SqliteStoreOptions) {
    this.#db = db;
    this.#sql = prepareStatements(db);
    this.#logSize = options.logSize;
    this.#rebaseEvery = Math.min(MAX_EVENTS_AFTER_BASE, options.logSize);
    this.#cachedJobs = options.cachedJobs ?? 256;
    const sql = this.#sql;
    this.#createTx = db.transaction((id: string, event: JobEvent, json: string, base: Snapshot) => {
      if (sql.headById.get(id) !== undefined) throw duplicateJob(id);
      const n = Number(sql.insertJob.run(id, base.status, event.ts, event.seq, event.seq).lastInsertRowid);
      sql.putBase.run(n, JSON.stringify(base));
      sql.insertSearch.run(n, searchTextOf(base));
      sql.insertEvent.run(n, event.seq, event.ts, event.name, json);
      return n;
    });
    // One transaction per append: the event, the job's seq (and base when due) and the
    // trim land together or not at all, so a crash never leaves a gap or a stale seq.
    this.#appendTx = db.transaction((n: number, event: JobEvent, json: string, base: Snapshot | null) => {
      if (base === null) {
        sql.setSeq.run(event.seq, n);
      } else {
        sql.setBaseSeq.run(event.seq, event.seq, base.status, base.finishedAt, n);
        sql.putBase.run(n, JSON.stringify(base));
      }
      sql.insertEvent.run(n, event.seq, event.ts, event.name, json);
      if (event.seq > this.#logSize) sql.trimEvents.run(n, event.seq - this.#logSize);
    });
    this.#deleteTx = db.transaction((n: number) => {
      sql.deleteEvents.run(n);
      sql.deleteBase.run(n);
      sql.deleteSearch.run(n);
      sql.deleteJob.run(n);
    });
  }

  async createJob(id: string, queued: Extract<NewEvent, { name: 'job.queued' }>): Promise<Appended> {
    this.#checkOpen();
    if (queued.name !== 'job.queued') throw new TypeError('a job starts with job.queued');
    const { event, json } = storedEvent(id, 1, queued);
    const snapshot = applyEvent(null, event);
    const n = writing(() => this.#createTx(id, event, json, snapshot));
    this.#remember(id, { n, snapshot, baseSeq: event.seq });
    return { event, snapshot };
  }

  async append(id: string, newEvent: NewEvent, options: AppendOptions = {}): Promise<Appended> {
    this.#checkOpen();
    checkAppendable(newEvent);
    const hot = this.#load(id);
    if (hot === null) throw jobNotFound(id);
    // better-sqlite3 is synchronous: the checks and the transaction run with nothing in between.
    this.#epochs.check(id, options.fence);
    if (isFinalStatus(hot.snapshot.status)) throw finishedError(id);
    const { event, json } = storedEvent(id, hot.snapshot.seq + 1, newEvent);
    const snapshot = applyEvent(hot.snapshot, event);
    // `>=` rather than `===`: after a restart with a smaller --log-size the distance may
    // already exceed the new bound, and the next append must pull base forward before
    // the trim in the same transaction deletes the events it still needs.
    const rebase = event.name.startsWith('job.') || event.seq - hot.baseSeq >= this.#rebaseEvery;
    // Written first: if the transaction throws, the cached snapshot is still the stored one.
    writing(() => this.#appendTx(hot.n, event, json, rebase ? snapshot : null));
    hot.snapshot = snapshot;
    if (rebase) hot.baseSeq = event.seq;
    if (isFinalStatus(snapshot.status)) this.#hot.delete(id);
    this.#epochs.appended(id, options.fence, isFinalStatus(snapshot.status));
    return { event, snapshot };
  }

  async issueFence(id: string): Promise<Fence> {
    this.#checkOpen();
    if (this.#sql.headById.get(id) === undefined) throw jobNotFound(id);
    return this.#epochs.issue(id);
  }

  async getSnapshot(id: string): Promise<Snapshot | null> {
    this.#checkOpen();
    return this.#load(id)?.snapshot ?? null;
  }

  async eventsSince(id: string, since: number): Promise<JobEvent[] | null> {
    this.#checkOpen();
    const head = this.#sql.headById.get(id);
    if (head === undefined || !Number.isSafeInteger(since) || since < 0 || since > head.seq) return null;
    if (since === head.seq) return [];
    const rows = this.#sql.eventsAfter.all(head.n, since);
    // The log is gapless, so it covers `since` exactly when it starts right after it.
    if (rows[0]?.seq !== since + 1 || rows.length !== head.seq - since) return null;
    return rows.map((row) => eventOfRow(id, row));
  }

  async list(query: ListQuery): Promise<ListPage> {
    this.#checkOpen();
    const { before, search } = checkListQuery(query);
    // One row more than asked tells whether a next page exists without a second query.
    const rows = this.#listRows(query.status, search, before, query.limit + 1);
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      // Not cached: a dashboard paging through history must not evict the running jobs.
      jobs: page.map((row) => this.#hot.get(row.id)?.snapshot ?? this.#fold(row)),
      next: rows.length > query.limit && last !== undefined ? String(last.n) : null,
    };
  }

  #listRows(status: JobStatus | undefined, search: string, before: number, limit: number): JobRow[] {
    const sql = this.#sql;
    if (search === '') return status === undefined ? sql.listAll.all(before, limit) : sql.listByStatus.all(status, before, limit);
    return status === undefined ? sql.listSearch.all(search, before, limit) : sql.listSearchByStatus.all(search, status, before, limit);
  }

  async idsByStatus(statuses: readonly JobStatus[]): Promise<string[]> {
    this.#checkOpen();
    const rows: Array<{ n: number; id: string }> = [];
    for (const status of new Set(statuses)) rows.push(...this.#sql.idsByStatus.all(status));
    rows.sort((a, b) => a.n - b.n);
    return rows.map((row) => row.id);
  }

  async countByStatus(): Promise<Record<JobStatus, number>> {
    this.#checkOpen();
    const counts = emptyCounts();
    for (const row of this.#sql.countByStatus.all()) if (JOB_STATUSES.includes(row.status)) counts[row.status] = row.count;
    return counts;
  }

  async recentlyFinished(limit: number): Promise<string[]> {
    this.#checkOpen();
    return this.#sql.recentlyFinished.all(Math.max(0, Math.floor(limit)));
  }

  async finishedBefore(ts: number, limit: number): Promise<string[]> {
    this.#checkOpen();
    return this.#sql.finishedBefore.all(ts, Math.max(0, Math.floor(limit)));
  }

  async delete(id: string): Promise<boolean> {
    this.#checkOpen();
    const head = this.#sql.headById.get(id);
    if (head === undefined) return false;
    writing(() => this.#deleteTx(head.n));
    this.#hot.delete(id);
    this.#epochs.forget(id);
    return true;
  }

  async ping(): Promise<void> {
    this.#checkOpen();
    // A real write and a real read on the connection appends use: when SQLite cannot
    // commit (disk full, I/O error, a lock held past busy_timeout) this rejects, so
    // /readyz turns away uploads before one is accepted that could not be stored.
    const stamp = String(Date.now());
    writing(() => this.#sql.pingWrite.run(stamp));
    if (this.#sql.pingRead.get() !== stamp) throw new Error('the store read back a different value than it wrote');
  }

  close(): Promise<void> {
    // Closing checkpoints the WAL into the main file; every caller gets the same promise.
    this.#closing ??= Promise.resolve().then(() => {
      this.#hot.clear();
      this.#epochs.clear();
      this.#db.close();
    });
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#closing !== null) throw closedError();
  }

  /** The job's current state from the cache, else rebuilt from the file (and cached while not final). */
  #load(id: string): Hot | null {
    const cached = this.#hot.get(id);
    if (cached !== undefined) {
      this.#remember(id, cached);
      return cached;
    }
    const row = this.#sql.jobById.get(id);
    if (row === undefined) return null;
    const hot = { n: row.n, snapshot: this.#fold(row), baseSeq: row.base_seq };
    if (!isFinalStatus(hot.snapshot.status)) this.#remember(id, hot);
    return hot;
  }

  #fold(row: JobRow): Snapshot {
    if (row.base === null) throw new Error(`job ${row.id} is damaged in the store: its base snapshot is missing`);
    let snapshot = JSON.parse(row.base) as Snapshot;
    for (const event of this.#sql.eventsAfter.iterate(row.n, row.base_seq)) {
      snapshot = applyEvent(snapshot, eventOfRow(row.id, event));
    }
    if (snapshot.seq !== row.seq) {
      throw new Error(`job ${row.id} is damaged in the store: its log reaches seq ${snapshot.seq}, its record says ${row.seq}`);
    }
    return snapshot;
  }

  /** Marks the entry most recently used (Map order) and drops the least recently used past the bound. */
  #remember(id: string, hot: Hot): void {
    this.#hot.delete(id);
    this.#hot.set(id, hot);
    if (this.#hot.size > this.#cachedJobs) {
      const oldest = this.#hot.keys().next().value;
      if (oldest !== undefined) this.#hot.delete(oldest);
    }
  }
}

/**
 * SQLite result codes (extended codes start with these) that mean the file cannot take a
 * write now: a full disk, an I/O error, a read-only or vanished file, a lock held by
 * another connection past busy_timeout. None of them is a bug of the caller; they pass
 * when the operator frees space or the lock goes away.
 */
const UNWRITABLE = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|PROTOCOL)/;

/**
 * Runs a write; a failure of the storage itself becomes JobcastError('not_ready'), so an
 * upload is answered 503 (and /readyz turns away the next ones) rather than 500.
 * The transaction has been rolled back by then: nothing of the write is kept.
 */
function writing<T>(write: () => T): T {
  try {
    return write();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !UNWRITABLE.test(code)) throw error;
    throw new JobcastError('not_ready', `SQLite cannot write: ${(error as Error).message} (${code})`);
  }
}

/**
 * Opens (creating it and its parent directories if needed) the SQLite store at `path`.
 * Once createJob or append resolves, the write survives a crash of the process.
 * Rejects with ConfigError for invalid options, or the SQLite error when the file
 * cannot be opened or was written by a newer build.
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions): Promise<Store> {
  checkStoreOptions(options);
  for (const key of ['cachedJobs', 'busyTimeoutMs'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(`${key} must be a whole number >= 0, got ${String(value)}`);
    }
  }
  if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
  return new SqliteStore(openDatabase(path, options.busyTimeoutMs ?? 5000), options);
}
