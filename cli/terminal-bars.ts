// Progress bars in a terminal: redrawn in place on a TTY, one line per change otherwise
// (so logs and CI output stay readable).

import type { WriteStream } from 'node:tty';

const WIDTH = 28;

export interface Line {
  /** Identifies the line across redraws. */
  key: string;
  text: string;
  /** Changes only at steps worth a line in a log: a status change, a quarter of the work. */
  milestone: string;
}

/** 0, 25, 50, 75 or 100: the quarter a fraction has reached. */
export function quarter(fraction: number): number {
  return Math.floor(Math.min(1, Math.max(0, fraction)) * 4) * 25;
}

/** `[#########...........]  42%` */
export function bar(fraction: number, width = WIDTH): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
}

export class TerminalView {
  private drawnLines = 0;
  private lastPlain = new Map<string, string>();

  constructor(private readonly out: NodeJS.WriteStream | WriteStream = process.stdout) {}

  private get isTty(): boolean {
    return Boolean((this.out as WriteStream).isTTY);
  }

  /**
   * Replaces the block of lines drawn last time with `lines`. On a non-TTY (a pipe, a
   * CI log) a line is printed only when its `milestone` changes, so output stays short.
   */
  draw(lines: Line[]): void {
    if (!this.isTty) {
      for (const { key, text, milestone } of lines) {
        if (this.lastPlain.get(key) === milestone) continue;
        this.lastPlain.set(key, milestone);
        this.out.write(`${text}\n`);
      }
      return;
    }
    const columns = (this.out as WriteStream).columns ?? 100;
    let frame = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F` : '';
    for (const { text } of lines) frame += `\x1b[2K${text.slice(0, columns - 1)}\n`;
    this.out.write(frame);
    this.drawnLines = lines.length;
  }

  /** Ends the block: the next draw starts below it. */
  done(): void {
    this.drawnLines = 0;
  }
}
