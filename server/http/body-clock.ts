// The client's two clocks on an upload body: the idle timeout (--upload-idle-timeout), cut
// off after that much silence, and the least pace (--upload-min-rate, upload-pace.ts).
// Both run only while the server reads the body: when the disk is behind, the request is
// paused, the silence is the server's own, and both clocks stop.

import { JobcastError } from '../errors.js';
import { UploadPace } from './upload-pace.js';

export interface BodyClockOptions {
  /** Longest silence of the body, in ms of the client's time. */
  idleTimeoutMs: number;
  /** Least bytes per second over each idle-timeout window; 0 turns the check off. */
  minBytesPerSecond: number;
  /** Called with 400 `malformed_multipart` (silence) or 408 `upload_too_slow`; the upload is then cut off. */
  onTimeout(error: JobcastError): void;
}

export class BodyClock {
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly pace: UploadPace;

  constructor(private readonly opts: BodyClockOptions) {
    this.pace = new UploadPace({ windowMs: opts.idleTimeoutMs, minBytesPerSecond: opts.minBytesPerSecond, onTooSlow: opts.onTimeout });
  }

  /** Starts (or goes on with) both clocks: the server reads the body. */
  start(): void {
    this.pace.start();
    if (this.idleTimer === null) {
      this.idleTimer = setTimeout(this.bodyOnIdle, this.opts.idleTimeoutMs);
      this.idleTimer.unref();
    } else {
      this.idleTimer.refresh();
    }
  }

  /** Body bytes arrived: they count for the pace, and the silence starts over. */
  received(bytes: number): void {
    this.pace.add(bytes);
    this.idleTimer?.refresh();
  }

  /** Stops both clocks: the server is not reading (the disk is behind), or the body is over. */
  stop(): void {
    this.pace.stop();
    if (this.idleTimer === null) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private readonly bodyOnIdle = (): void => {
    this.idleTimer = null;
    this.pace.stop();
    // The route answers 400 with Connection: close, which also closes the socket.
    const message = `no body bytes arrived for ${this.opts.idleTimeoutMs} ms; the upload is cut off`;
    this.opts.onTimeout(new JobcastError('malformed_multipart', message));
  };
}
