// The least pace an upload's body must keep to hold its slot (--upload-min-rate).
//
// The idle timeout alone restarts with every byte, so a client sending one byte every
// few seconds held an upload slot (and a parser and open spool files) for ever, and a
// handful of them kept every other upload at 503 too_many_uploads. Here the body is
// measured in windows of the client's time (the idle timeout's length, 30 s by
// default): each window must bring at least `minBytesPerSecond` times its length. The
// clock stops while the server itself holds the body back (the disk is behind), as the
// idle clock does. A real slow link passes easily: the default 512 bytes/s is 4 kbit/s.

import { JobcastError } from '../errors.js';

export interface UploadPaceOptions {
  /** Length of one window, in ms of the client's time (--upload-idle-timeout). */
  windowMs: number;
  /** Least bytes per second over each window (--upload-min-rate); 0 turns the check off. */
  minBytesPerSecond: number;
  /** Called once, with 408 `upload_too_slow`, when a window ends short; the upload is then cut off. */
  onTooSlow(error: JobcastError): void;
}

export class UploadPace {
  private timer: NodeJS.Timeout | null = null;
  /** When the clock last started (performance.now()), or null while it is stopped. */
  private runningSince: number | null = null;
  /** Client time of the current window before the clock last started. */
  private elapsedMs = 0;
  /** Body bytes of the current window. */
  private bytes = 0;

  constructor(private readonly opts: UploadPaceOptions) {}

  /** Counts body bytes that arrived. */
  add(bytes: number): void {
    this.bytes += bytes;
  }

  /** Starts (or goes on with) the clock: the server reads the body. */
  start(): void {
    if (this.opts.minBytesPerSecond <= 0 || this.runningSince !== null) return;
    this.runningSince = performance.now();
    this.timer = setTimeout(this.windowOnEnd, Math.max(0, this.opts.windowMs - this.elapsedMs));
    this.timer.unref();
  }

  /** Stops the clock: the server is not reading (the disk is behind), or the body is over. */
  stop(): void {
    if (this.runningSince === null) return;
    this.elapsedMs += performance.now() - this.runningSince;
    this.runningSince = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private readonly windowOnEnd = (): void => {
    this.timer = null;
    this.runningSince = null;
    const { windowMs, minBytesPerSecond } = this.opts;
    // A window without a byte is silence, which the idle timeout answers (400) at about this moment.
    if (this.bytes > 0 && this.bytes < (minBytesPerSecond * windowMs) / 1000) {
      const rate = Math.round((this.bytes * 1000) / windowMs);
      const message = `the body arrived at ${rate} bytes/s over ${windowMs} ms, under --upload-min-rate (${minBytesPerSecond} bytes/s); the upload is cut off`;
      this.opts.onTooSlow(new JobcastError('upload_too_slow', message));
      return;
    }
    this.elapsedMs = 0;
    this.bytes = 0;
    this.start();
  };
}
