// A multipart/form-data body streamed from files on disk, with its exact length known
// up front (so the server sees Content-Length and the CLI can show upload progress).
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
/** Fields first, then one part per file, named by its path as given (folders keep their relative paths). */
export async function multipartBody(fields, paths) {
    const boundary = `----jobcast${randomBytes(12).toString('hex')}`;
    const heads = [];
    for (const [name, value] of Object.entries(fields)) {
        heads.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
    }
    const files = await Promise.all(paths.map(async (path) => ({ path, size: (await stat(path)).size })));
    const fileHeads = files.map(({ path }) => {
        const name = path.startsWith('/') ? basename(path) : path.replace(/^\.\//, '');
        return Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8''${encodeURIComponent(name)}\r\n` +
            `Content-Type: application/octet-stream\r\n\r\n`);
    });
    const tail = Buffer.from(`--${boundary}--\r\n`);
    const length = heads.reduce((n, b) => n + b.length, 0) +
        files.reduce((n, f, i) => n + fileHeads[i].length + f.size + 2, 0) +
        tail.length;
    return {
        contentType: `multipart/form-data; boundary=${boundary}`,
        length,
        stream(onBytes) {
            return Readable.from((async function* () {
                yield* heads;
                for (const [i, file] of files.entries()) {
                    yield fileHeads[i];
                    for await (const chunk of createReadStream(file.path)) {
                        onBytes(chunk.length);
                        yield chunk;
                    }
                    yield Buffer.from('\r\n');
                }
                yield tail;
            })());
        },
    };
}
//# sourceMappingURL=multipart-body.js.map