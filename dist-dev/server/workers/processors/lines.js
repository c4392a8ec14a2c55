// Built-in `lines`: counts lines, streamed (SPEC 4).
import { createReadStream } from 'node:fs';
import { addAbortSignal } from 'node:stream';
const NEWLINE = 0x0a;
/**
 * `{lines, bytes}`: the number of '\n' bytes, plus one when the file is not empty and
 * does not end with '\n' (a last line without terminator still counts, as in editors).
 * Progress in bytes. Rejects with an AbortError when ctx.signal aborts.
 */
export default async function lines(file, ctx) {
    ctx.signal.throwIfAborted();
    let newlines = 0;
    let bytes = 0;
    let lastByte = NEWLINE;
    for await (const chunk of addAbortSignal(ctx.signal, createReadStream(file.path))) {
        newlines += countNewlines(chunk);
        bytes += chunk.length;
        if (chunk.length > 0)
            lastByte = chunk[chunk.length - 1];
        ctx.progress(bytes, Math.max(file.size, bytes));
    }
    return { lines: newlines + (bytes > 0 && lastByte !== NEWLINE ? 1 : 0), bytes };
}
function countNewlines(chunk) {
    let count = 0;
    // indexOf runs in native code: much faster than a JS loop over every byte.
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1))
        count++;
    return count;
}
//# sourceMappingURL=lines.js.map