// Writing JSON answers and errors in the one error shape of SPEC 2.
import { STATUS_CODES } from 'node:http';
/** Sends `body` as JSON with `status`. */
export function sendJson(res, status, body, headers = {}) {
    res.end(writeJsonHead(res, status, body, headers));
}
/** Writes the status line and headers for `body` as JSON; returns the body's text, still to be sent. */
function writeJsonHead(res, status, body, headers) {
    const text = JSON.stringify(body);
    res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-store',
        ...headers,
    });
    return text;
}
/**
 * 8 MiB or 2 s: enough for a client that goes on writing at any usual rate to read its
 * answer, little enough that a refused client cannot hold the socket.
 */
export const DEFAULT_LINGER = Object.freeze({ maxBytes: 8 * 1024 * 1024, maxMs: 2000 });
/**
 * Sends `{"error": {code, message}}`. When the request body has not been read to its end
 * (an upload refused part-way), the connection lingers within the bounds above, then
 * closes: it cannot carry another request.
 */
export function sendError(req, res, error, linger = DEFAULT_LINGER) {
    if (res.headersSent) {
        res.destroy();
        return;
    }
    const headers = { ...error.headers };
    if (req.complete)
        return sendJson(res, error.status, error.toJSON(), headers);
    headers.connection = 'close';
    res.write(writeJsonHead(res, error.status, error.toJSON(), headers));
    void drainBody(req, linger).then(() => res.end());
}
/** Reads and discards the rest of `req`; resolves at its end, when it breaks off, or at the bounds. */
function drainBody(req, linger) {
    return new Promise((resolve) => {
        let drained = 0;
        const finish = () => {
            clearTimeout(timer);
            req.off('data', count);
            req.off('end', finish);
            req.off('close', finish);
            resolve();
        };
        const count = (chunk) => {
            drained += chunk.length;
            if (drained > linger.maxBytes)
                finish();
        };
        const timer = setTimeout(finish, linger.maxMs);
        req.on('data', count);
        req.once('end', finish);
        req.once('close', finish);
        // Past the bounds the data goes on being discarded until the socket closes.
        req.resume();
        if (req.complete || req.destroyed)
            finish();
    });
}
/**
 * `error` as a whole HTTP/1.1 response with `Connection: close`, for writing straight to
 * a socket where there is no ServerResponse: a refused upgrade, a request Node could not parse.
 */
export function rawErrorResponse(error) {
    const body = JSON.stringify(error.toJSON());
    const extra = Object.entries(error.headers).map(([name, value]) => `${name}: ${value}\r\n`);
    return (`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\nConnection: close\r\n${extra.join('')}` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
//# sourceMappingURL=respond.js.map