// Built-in `sha256`: the SHA-256 digest of the file, streamed (SPEC 4).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { addAbortSignal } from 'node:stream';
/** `{sha256: lowercase hex, bytes}`; progress in bytes. Rejects with an AbortError when ctx.signal aborts. */
export default async function sha256(file, ctx) {
    ctx.signal.throwIfAborted();
    const hash = createHash('sha256');
    let bytes = 0;
    // addAbortSignal destroys the stream on abort, which rejects the loop below.
    for await (const chunk of addAbortSignal(ctx.signal, createReadStream(file.path))) {
        hash.update(chunk);
        bytes += chunk.length;
        // The file may have changed size since upload; never report done > total.
        ctx.progress(bytes, Math.max(file.size, bytes));
    }
    return { sha256: hash.digest('hex'), bytes };
}
//# sourceMappingURL=sha256.js.map