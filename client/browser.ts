// The client SDK as one browser ES module, served by the server at GET /jobcast-client.js
// (SPEC 2) and bundled by client-demo/build.mjs. A page on another origin imports it
// from the server it talks to; `url` then defaults to that server.

import { createClient as createClientWithUrl, type ClientOptions, type JobcastClient } from './jobcast-client.js';

export { applyEvent, foldEvents } from '../server/protocol/reducer.js';
export type * from './jobcast-client.js';

/**
 * Creates a client and starts connecting. `url` defaults to the server this module was
 * loaded from; the WebSocket is the browser's. Throws a TypeError naming an option that cannot work.
 */
export function createClient(options: Partial<ClientOptions> = {}): JobcastClient {
  return createClientWithUrl({ ...options, url: options.url ?? new URL('.', import.meta.url).href });
}
