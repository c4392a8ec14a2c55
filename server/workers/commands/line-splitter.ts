// Splits a byte stream into `\n`-terminated lines with a bound on the line length, so
// a child that writes megabytes without a newline costs the server at most that bound.

const NEWLINE = 0x0a;

export interface LineSplitterOptions {
  /** Longest line in bytes, without its `\n`. */
  maxBytes: number;
  /** Each complete line, decoded as UTF-8, without `\n` (and without a trailing `\r`). */
  onLine(line: string): void;
  /**
   * Called once a line passes maxBytes. `cut`: the line's first maxBytes go to onLine
   * and the rest is skipped up to the next `\n` (stderr). `fail`: nothing more is read
   * (stdout, where such a line breaks the protocol).
   */
  onLongLine: 'cut' | (() => void);
}

export class LineSplitter {
  readonly #options: LineSplitterOptions;
  #parts: Buffer[] = [];
  #partBytes = 0;
  /** Inside a line that was already cut: skip until the next newline. */
  #isSkipping = false;
  #hasFailed = false;

  constructor(options: LineSplitterOptions) {
    this.#options = options;
  }

  /** Feeds bytes; calls onLine for every line they complete. */
  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length && !this.#hasFailed) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) {
        this.#keep(chunk.subarray(start));
        return;
      }
      this.#keep(chunk.subarray(start, end));
      if (this.#hasFailed) return;
      this.#emit();
      start = end + 1;
    }
  }

  /** Bytes held for a line not yet complete. */
  get pendingBytes(): number {
    return this.#partBytes;
  }

  #keep(bytes: Buffer): void {
    if (this.#isSkipping || bytes.length === 0) return;
    const room = this.#options.maxBytes - this.#partBytes;
    if (bytes.length <= room) {
      this.#parts.push(bytes);
      this.#partBytes += bytes.length;
      return;
    }
    const { onLongLine } = this.#options;
    if (onLongLine === 'cut') {
      this.#parts.push(bytes.subarray(0, room));
      this.#partBytes += room;
      this.#emitParts();
      this.#isSkipping = true;
      return;
    }
    this.#hasFailed = true;
    this.#parts = [];
    this.#partBytes = 0;
    onLongLine();
  }

  /** A newline arrived: the line so far is complete (unless it was cut and already sent). */
  #emit(): void {
    if (this.#isSkipping) {
      this.#isSkipping = false;
      return;
    }
    this.#emitParts();
  }

  #emitParts(): void {
    const bytes = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#partBytes);
    this.#parts = [];
    this.#partBytes = 0;
    let text = bytes.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    this.#options.onLine(text);
  }
}
