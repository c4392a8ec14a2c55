// The spool: where uploaded files, processor outputs and job options live, one folder
// per job (`<root>/<id>/in-<index>`, `out-<index>`, `options.json`). Paths are built
// only from checked job ids and integer indexes, never from anything a client named,
// so nothing can be written or removed outside the root.

import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isJobId } from '../protocol/types.js';
import type { JobFiles } from './job-files.js';

/** The files of a job folder: inputs, outputs and the job's options. */
// `out-N.EPOCH.partial`: an output as one claim writes it, until that claim's completion is stored.
const JOB_FILE = /^(?:(?:in|out)-\d+|out-\d+\.\d+\.partial|options\.json)$/;

/** Files of jobs under one root folder. */
export class Spool implements JobFiles {
  /** Absolute path of the root folder. */
  readonly root: string;

  /** `root`: the spool folder (`--spool-dir`, default `./data/spool`); made absolute here. */
  constructor(root: string) {
    this.root = resolve(root);
  }

  /** `<root>/<id>`. Throws for an id that is not 1..64 of `A-Za-z0-9_-`. */
  jobDir(id: string): string {
    if (typeof id !== 'string' || !isJobId(id)) {
      throw new Error(`spool: job id must be 1..64 characters of A-Za-z0-9_-, got ${JSON.stringify(id)}`);
    }
    return join(this.root, id);
  }

  /** `<root>/<id>/in-<index>`: the uploaded file number `index` of the job. */
  inputPath(id: string, index: number): string {
    return join(this.jobDir(id), `in-${checkIndex(index)}`);
  }

  /** `<root>/<id>/out-<index>`: what the processor produced for file `index`, if anything. */
  outputPath(id: string, index: number): string {
    return join(this.jobDir(id), `out-${checkIndex(index)}`);
  }

  /** `<root>/<id>/out-<index>.<fence>.partial`: the output of file `index` as the claim with token `fence` writes it. */
  claimOutputPath(id: string, index: number, fence: number): string {
    if (!Number.isSafeInteger(fence) || fence < 0) throw new Error(`spool: fence must be a non-negative integer, got ${String(fence)}`);
    return join(this.jobDir(id), `out-${checkIndex(index)}.${fence}.partial`);
  }

  async clearClaimOutputs(id: string, index: number): Promise<void> {
    for (const name of await this.claimOutputs(id, index)) await rm(join(this.jobDir(id), name.name), { force: true });
  }

  async publishOutput(id: string, index: number, fence: number): Promise<void> {
    await rename(this.claimOutputPath(id, index, fence), this.outputPath(id, index)).catch((err: NodeJS.ErrnoException) => {
      // Already published by a reader that found the output missing (recoverOutput).
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async recoverOutput(id: string, index: number): Promise<void> {
    if ((await stat(this.outputPath(id, index)).catch(() => null)) !== null) return;
    const newest = (await this.claimOutputs(id, index)).sort((a, b) => b.fence - a.fence)[0];
    if (newest !== undefined) await this.publishOutput(id, index, newest.fence);
  }

  /** The claim outputs of file `index` in the job's folder, with their tokens. */
  private async claimOutputs(id: string, index: number): Promise<Array<{ name: string; fence: number }>> {
    const names = await readdir(this.jobDir(id)).catch(() => [] as string[]);
    const pattern = new RegExp(`^out-${checkIndex(index)}\\.(\\d+)\\.partial$`);
    const found: Array<{ name: string; fence: number }> = [];
    for (const name of names) {
      const match = pattern.exec(name);
      if (match !== null) found.push({ name, fence: Number(match[1]) });
    }
    return found;
  }

  /** `<root>/<id>/options.json`: the job's `options` as uploaded. */
  async writeOptions(id: string, options: Record<string, unknown>): Promise<void> {
    await writeFile(this.optionsPath(id), JSON.stringify(options));
  }

  /** The job's `options`; `{}` when the file is missing or unreadable (a job from an older build). */
  async readOptions(id: string): Promise<Record<string, unknown>> {
    try {
      return JSON.parse(await readFile(this.optionsPath(id), 'utf8')) as Record<string, unknown>;
    } catch {
      return {};
    }
  }

  /** Creates the root folder and its parents if missing. */
  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  /** Creates the job's folder (and the root if missing); resolves to its path. */
  async createJobDir(id: string): Promise<string> {
    const dir = this.jobDir(id);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Removes the job's folder and everything in it; a missing folder is not an error. */
  async removeJob(id: string): Promise<void> {
    // jobDir throws for a bad id; inside this async function that becomes a rejection.
    await rm(this.jobDir(id), { recursive: true, force: true });
  }

  /**
   * Removes the job folders whose job `isKnown` rejects (left by a crash mid-upload, or by
   * a job the store no longer has). Only what is recognisably a job folder goes: a real
   * folder (not a symbolic link) named like a job id that holds nothing but `in-N`,
   * `out-N` and `options.json` files. Anything else in the root is not ours and is left
   * alone, whatever it is. Resolves to the number of folders removed.
   *
   * `minIdleMs` (default 0): spare folders that changed more recently than this. With a
   * spool shared by processes, another process's upload in progress has a folder before
   * its job exists; an upload whose body stops arriving for --upload-idle-timeout is cut
   * off (and cleans up after itself), so a folder idle for longer belongs to nobody.
   */
  async sweepOrphans(isKnown: (id: string) => Promise<boolean> | boolean, options: { minIdleMs?: number } = {}): Promise<number> {
    const minIdleMs = options.minIdleMs ?? 0;
    let entries;
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    let removed = 0;
    for (const entry of entries) {
      if (!entry.isDirectory() || !isJobId(entry.name)) continue;
      if ((await isKnown(entry.name)) || !(await this.isJobFolder(entry.name))) continue;
      if (minIdleMs > 0 && Date.now() - (await this.lastChangeMs(join(this.root, entry.name))) < minIdleMs) continue;
      await rm(join(this.root, entry.name), { recursive: true, force: true });
      removed += 1;
    }
    return removed;
  }

  /** The latest modification time of an entry and, for a folder, of the files in it (ms); now when it cannot be read. */
  private async lastChangeMs(path: string): Promise<number> {
    try {
      const info = await lstat(path);
      let latest = info.mtimeMs;
      if (info.isDirectory()) {
        for (const name of await readdir(path)) latest = Math.max(latest, (await stat(join(path, name)).catch(() => info)).mtimeMs);
      }
      return latest;
    } catch {
      return Date.now();
    }
  }

  /** True when the folder `<root>/<name>` holds only files a job puts there (see sweepOrphans). */
  private async isJobFolder(name: string): Promise<boolean> {
    const entries = await readdir(join(this.root, name), { withFileTypes: true }).catch(() => null);
    return entries !== null && entries.every((entry) => entry.isFile() && JOB_FILE.test(entry.name));
  }

  /** True when a file can be created, written and removed in the root (for `/readyz`). */
  async isWritable(): Promise<boolean> {
    return this.probeWritable().then(
      () => true,
      () => false,
    );
  }

  /**
   * Creates a one-byte file in the root and removes it; rejects with the file system's
   * error (ENOSPC for a full disk, EACCES, EROFS, ENOENT...) when that fails. One byte
   * rather than none: an empty file needs no data block, so it can still be created on a
   * disk that has no room left for an upload.
   */
  async probeWritable(): Promise<void> {
    const probe = join(this.root, `.probe-${randomBytes(6).toString('hex')}`);
    try {
      await writeFile(probe, '.');
    } finally {
      // force: a concurrent sweepOrphans may already have removed the probe.
      await rm(probe, { force: true }).catch(() => undefined);
    }
  }

  private optionsPath(id: string): string {
    return join(this.jobDir(id), 'options.json');
  }
}

function checkIndex(index: number): number {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new Error(`spool: file index must be a non-negative integer, got ${String(index)}`);
  }
  return index;
}
