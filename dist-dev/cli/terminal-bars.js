// Progress bars in a terminal: redrawn in place on a TTY, one line per change otherwise
// (so logs and CI output stay readable).
const WIDTH = 28;
/** 0, 25, 50, 75 or 100: the quarter a fraction has reached. */
export function quarter(fraction) {
    return Math.floor(Math.min(1, Math.max(0, fraction)) * 4) * 25;
}
/** `[#########...........]  42%` */
export function bar(fraction, width = WIDTH) {
    const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
}
export class TerminalView {
    out;
    drawnLines = 0;
    lastPlain = new Map();
    constructor(out = process.stdout) {
        this.out = out;
    }
    get isTty() {
        return Boolean(this.out.isTTY);
    }
    /**
     * Replaces the block of lines drawn last time with `lines`. On a non-TTY (a pipe, a
     * CI log) a line is printed only when its `milestone` changes, so output stays short.
     */
    draw(lines) {
        if (!this.isTty) {
            for (const { key, text, milestone } of lines) {
                if (this.lastPlain.get(key) === milestone)
                    continue;
                this.lastPlain.set(key, milestone);
                this.out.write(`${text}\n`);
            }
            return;
        }
        const columns = this.out.columns ?? 100;
        let frame = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F` : '';
        for (const { text } of lines)
            frame += `\x1b[2K${text.slice(0, columns - 1)}\n`;
        this.out.write(frame);
        this.drawnLines = lines.length;
    }
    /** Ends the block: the next draw starts below it. */
    done() {
        this.drawnLines = 0;
    }
}
//# sourceMappingURL=terminal-bars.js.map