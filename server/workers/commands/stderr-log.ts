// A command child's stderr, line by line into the server log, bounded in length and
// rate so a child printing without pause cannot flood the log or hold memory. The last
// few lines are kept for the error message of a child that dies (a Python traceback
// ends with the line that says why).

import type { Logger } from '../../logger.js';
import { LineSplitter } from './line-splitter.js';

/** Longest stderr line logged; the rest of the line is dropped. */
const MAX_LINE_BYTES = 8 * 1024;
/** Lines logged per child per window; the others are counted and reported once. */
const MAX_LINES_PER_WINDOW = 200;
const WINDOW_MS = 1000;
/** Lines kept for a crash message, and the most characters of each. */
const TAIL_LINES = 5;
const TAIL_LINE_CHARS = 500;

export class StderrLog {
  readonly #splitter: LineSplitter;
  readonly #tail: string[] = [];
  #windowStartedAt = 0;
  #linesInWindow = 0;
  #dropped = 0;

  /** `context()` gives the fields every line is logged with (processor, pid, and the job and file being processed). */
  constructor(logger: Logger, context: () => Record<string, unknown>) {
    this.#splitter = new LineSplitter({
      maxBytes: MAX_LINE_BYTES,
      onLongLine: 'cut',
      onLine: (line) => this.#lineOnRead(logger, context, line),
    });
  }

  push(chunk: Buffer): void {
    this.#splitter.push(chunk);
  }

  /** The last lines, oldest first, joined for an error message; '' when there were none. */
  tail(): string {
    return this.#tail.join(' | ');
  }

  #lineOnRead(logger: Logger, context: () => Record<string, unknown>, line: string): void {
    if (line.trim() !== '') {
      this.#tail.push(line.length > TAIL_LINE_CHARS ? `${line.slice(0, TAIL_LINE_CHARS)}…` : line);
      if (this.#tail.length > TAIL_LINES) this.#tail.shift();
    }
    const now = Date.now();
    if (now - this.#windowStartedAt >= WINDOW_MS) {
      this.#windowStartedAt = now;
      this.#linesInWindow = 0;
    }
    if (++this.#linesInWindow > MAX_LINES_PER_WINDOW) {
      // Counted, and reported once when the window ends.
      if (this.#dropped++ === 0) {
        const fields = context();
        setTimeout(() => {
          logger.warn({ ...fields, dropped: this.#dropped }, `a command processor wrote more than ${MAX_LINES_PER_WINDOW} stderr lines in a second; the rest were not logged`);
          this.#dropped = 0;
        }, this.#windowStartedAt + WINDOW_MS - now).unref();
      }
      return;
    }
    logger.info({ ...context(), stream: 'stderr' }, line);
  }
}
