// Built-in `gzip`: compresses the file to ctx.outputPath, streamed (SPEC 4).
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
/**
 * Writes the gzip stream of the file to ctx.outputPath and returns the sizes; progress
 * in input bytes. On failure or abort the partial output is removed and the promise
 * rejects (an AbortError when ctx.signal aborted).
 */
export default async function gzip(file, ctx) {
    ctx.signal.throwIfAborted();
    await mkdir(dirname(ctx.outputPath), { recursive: true });
    let bytes = 0;
    let compressedBytes = 0;
    try {
        // pipeline destroys every stream on error or abort, so no descriptor is left open.
        await pipeline(createReadStream(file.path), async function* countInput(source) {
            for await (const chunk of source) {
                bytes += chunk.length;
                ctx.progress(bytes, Math.max(file.size, bytes));
                yield chunk;
            }
        }, createGzip(), async function* countOutput(source) {
            for await (const chunk of source) {
                compressedBytes += chunk.length;
                yield chunk;
            }
        }, createWriteStream(ctx.outputPath), { signal: ctx.signal });
    }
    catch (err) {
        // A half-written archive must not be served as the file's output.
        await rm(ctx.outputPath, { force: true });
        throw err;
    }
    return { bytes, compressedBytes, ratio: bytes === 0 ? 0 : compressedBytes / bytes };
}
//# sourceMappingURL=gzip.js.map