// What the job code needs of the spool: where a job's files are, its options, and
// removing them. The spool (spool.ts) is the one implementation; every process that
// runs jobs must see the same files (SPEC 6: a shared --spool-dir).

/** A job's files on the spool, as the job code sees them. */
export interface JobFiles {
  /** The job's folder. */
  jobDir(id: string): string;
  /** The uploaded file number `index` of the job. */
  inputPath(id: string, index: number): string;
  /** The output of file `index`, once the claim that completed the file has published it. */
  outputPath(id: string, index: number): string;
  /**
   * Where the run holding the claim with fence token `fence` has the processor write the
   * output of file `index`: a path of that claim alone, so that a run that lost its job
   * (a paused owner after a takeover) never writes over another's output.
   */
  claimOutputPath(id: string, index: number, fence: number): string;
  /** Removes what earlier claims left at their claim output paths for file `index` (a run starting the file). */
  clearClaimOutputs(id: string, index: number): Promise<void>;
  /** Makes the claim's output the file's output; called once its file.completed is stored. */
  publishOutput(id: string, index: number, fence: number): Promise<void>;
  /**
   * For a file whose file.completed is stored with `output: true` but whose output was not
   * published (the process died in between): publishes the output of the highest fence
   * token. Only the claim that completed the file can hold it: its token was the job's
   * epoch when its completion was stored; every later claim sees the file done and never
   * runs it, and every earlier claim has a smaller token. No-op when published already.
   */
  recoverOutput(id: string, index: number): Promise<void>;
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
