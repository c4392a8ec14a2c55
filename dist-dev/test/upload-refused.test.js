// An upload refused part-way is answered, not reset: a client that goes on writing the
// rest of its body (as a piped stream does) must read the error code, not EPIPE or
// ECONNRESET. The server answers at once and reads on (up to 8 MiB or 2 s) before it
// closes the connection.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { startTestServer } from './helpers/server.js';
const BOUNDARY = 'jobcast-refused';
const TRIES = 30;
/** The body in pieces: an unknown processor first if asked, then a file written in `pieceBytes` writes. */
function bodyPieces(fileBytes, pieceBytes, withUnknownProcessor) {
    const pieces = [
        Buffer.from(withUnknownProcessor ? `--${BOUNDARY}\r\nContent-Disposition: form-data; name="processor"\r\n\r\nno-such-processor\r\n` : ''),
        Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    ];
    const block = Buffer.alloc(pieceBytes, 0x61);
    for (let sent = 0; sent < fileBytes; sent += block.length)
        pieces.push(block.subarray(0, Math.min(block.length, fileBytes - sent)));
    pieces.push(Buffer.from(`\r\n--${BOUNDARY}--\r\n`));
    return pieces;
}
/** Tally of outcomes over `tries` uploads of `pieces`. */
async function tally(port, tries, pieces) {
    const outcomes = new Map();
    for (let i = 0; i < tries; i++) {
        const outcome = await postWithoutStopping(port, pieces);
        const key = 'error' in outcome ? `socket error ${outcome.error}` : `${outcome.status} ${outcome.code}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    return Object.fromEntries(outcomes);
}
/** Writes every piece, each in its own turn of the event loop, whatever the server does; resolves with the answer or the socket error. */
function postWithoutStopping(port, pieces) {
    const length = pieces.reduce((n, p) => n + p.length, 0);
    return new Promise((resolve) => {
        const req = request({
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/jobs',
            agent: false,
            headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': length },
        });
        let answered = false;
        req.on('response', (res) => {
            answered = true;
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode, code: JSON.parse(text).error.code }));
        });
        req.on('error', (err) => {
            if (!answered)
                resolve({ error: err.code ?? err.message });
        });
        const writeFrom = (i) => {
            if (req.destroyed)
                return;
            if (i === pieces.length)
                return void req.end();
            req.write(pieces[i]);
            setImmediate(writeFrom, i + 1);
        };
        writeFrom(0);
    });
}
test(`a small upload refused at its first field is answered with its code, never reset (${TRIES} tries)`, async (t) => {
    const server = await startTestServer(t);
    assert.deepEqual(await tally(server.port, TRIES, bodyPieces(256 * 1024, 4096, true)), { '400 unknown_processor': TRIES });
    assert.deepEqual(await readdir(server.config.spoolDir), [], 'no spool folder left');
    const list = (await (await fetch(`${server.url}/jobs`)).json());
    assert.equal(list.jobs.length, 0, 'no job created');
});
test('a client that keeps sending 64 MiB past --max-file-size reads 413 file_too_large, never a reset (5 tries)', async (t) => {
    const server = await startTestServer(t, { maxFileSize: 1024 * 1024 });
    assert.deepEqual(await tally(server.port, 5, bodyPieces(64 * 1024 * 1024, 64 * 1024, false)), { '413 file_too_large': 5 });
    assert.deepEqual(await readdir(server.config.spoolDir), [], 'no spool folder left');
});
//# sourceMappingURL=upload-refused.test.js.map