// What the job code needs of the spool: where a job's files are, its options, and
// removing them. The spool (spool.ts) is the one implementation; every process that
// runs jobs must see the same files (SPEC 6: a shared --spool-dir).

/** A job's files on the spool, as the job code sees them. */
export interface JobFiles {
  /** The job's folder. */
  jobDir(id: string): string;
  /** The uploaded file number `index` of the job. */
  inputPath(id: string, index: number): string;
  /** Where the processor writes its output for file `index`, if it makes one. */
  outputPath(id: string, index: number): string;
  /**
   * Keeps the job's `options` beside its files: a job resumed after a restart (or by
   * another process) needs them too, and they are not part of the snapshot.
   */
  writeOptions(id: string, options: Record<string, unknown>): Promise<void>;
  /** The options written by writeOptions; `{}` when there are none or they cannot be read. */
  readOptions(id: string): Promise<Record<string, unknown>>;
  /** Removes the job's folder and everything in it; a missing folder is not an error. */
  removeJob(id: string): Promise<void>;
}
