// createClient's options: typed defaults, each field checked and named in the error,
// the result frozen. Also turns the server URL into the socket URL.
import { resolveBackoffOptions } from './backoff.js';
/** Default of `pingIntervalMs`: under the 30 s idle timeouts common in proxies and load balancers. */
export const DEFAULT_PING_INTERVAL_MS = 25_000;
/** Checks the options and fills in the defaults; throws a TypeError naming the bad option. */
export function resolveClientOptions(options) {
    if (typeof options !== 'object' || options === null)
        throw new TypeError('createClient needs options: { url: "http://host:port" }');
    if (options.token !== undefined && typeof options.token !== 'string')
        throw new TypeError('token must be a string');
    const WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof WebSocket !== 'function') {
        throw new TypeError("there is no global WebSocket here: pass the WebSocket option (in Node 20: `import WebSocket from 'ws'`)");
    }
    const pingIntervalMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    if (typeof pingIntervalMs !== 'number' || !Number.isFinite(pingIntervalMs) || pingIntervalMs <= 0) {
        throw new TypeError(`pingIntervalMs must be a number of milliseconds above 0, got ${String(options.pingIntervalMs)}`);
    }
    const backoff = resolveBackoffOptions({ ...options.backoff, random: Math.random });
    return Object.freeze({ socketUrl: socketUrl(options.url, options.token), WebSocket, backoff, pingIntervalMs });
}
/**
 * `http://h:p` -> `ws://h:p/ws`, `https://h/base/` -> `wss://h/base/ws`; a ws(s):// URL is kept
 * as given. The token, if any, goes in the query (browsers cannot set headers on a WebSocket).
 */
export function socketUrl(url, token) {
    if (typeof url !== 'string')
        throw new TypeError('url must be a string like "http://localhost:8080"');
    let parsed;
    try {
        parsed = new URL(url);
    }
    catch {
        throw new TypeError(`url must be an absolute http(s):// or ws(s):// URL, got '${url}'`);
    }
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
        parsed.protocol = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
        parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/ws`;
    }
    else if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
        throw new TypeError(`url must be an http(s):// or ws(s):// URL, got '${url}'`);
    }
    parsed.hash = '';
    if (token !== undefined)
        parsed.searchParams.set('token', token);
    return parsed.toString();
}
//# sourceMappingURL=options.js.map