// The demo pages (client-demo/) and their bundled assets. Only names matching a fixed
// pattern are served from one fixed folder: no request path ever reaches the filesystem.

import { readFile } from 'node:fs/promises';
import { JobcastError } from '../errors.js';
import { bytesReply, type Reply } from './reply.js';
import type { Route } from './router.js';

/** Page shells, from the source tree (compiled code runs from dist/server/http/). */
const PAGES = new URL('../../../client-demo/', import.meta.url);
/** Scripts and styles bundled by client-demo/build.mjs. */
const ASSETS = new URL('../../client-demo/', import.meta.url);
/** The client SDK as one browser ES module, bundled by client-demo/build.mjs. */
const CLIENT_MODULE = new URL('../../browser/jobcast-client.js', import.meta.url);
const ASSET_NAME = /^(?<base>[a-z][a-z0-9-]*)\.(?<ext>js|css|js\.map|css\.map)$/;
const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  'js.map': 'application/json',
  'css.map': 'application/json',
};

export interface StaticRoutesOptions {
  /**
   * Whether the server has a `--token`. The pages are told in a meta tag, so that they ask
   * for it before their first request instead of after a 401 (which a browser logs as an error).
   */
  needsToken: boolean;
}

export function staticRoutes(opts: StaticRoutesOptions): Route[] {
  const page = (name: string) => servePage(name, opts.needsToken);
  return [
    {
      pattern: /^\/jobcast-client\.js$/,
      methods: {
        GET: async () => {
          const body = await readFile(CLIENT_MODULE).catch(() => {
            throw new JobcastError('not_found', 'the client module is not built: run `npm run build`');
          });
          return bytesReply(200, body, {
            'content-type': TYPES.js!,
            'cache-control': 'no-cache',
            // A module script from another origin is fetched in CORS mode. The file is
            // public code with no credentials; what a page may then do is decided by
            // --allowed-origins on /ws.
            'access-control-allow-origin': '*',
            'x-content-type-options': 'nosniff',
          });
        },
      },
    },
    { pattern: /^\/$/, methods: { GET: () => page('index.html').then((html) => pageReply(html)) } },
    { pattern: /^\/dashboard$/, methods: { GET: () => page('dashboard.html').then((html) => pageReply(html)) } },
    // Browsers ask for /favicon.ico on their own; without an answer every page logs a 404.
    ...['/favicon.ico', '/favicon.svg'].map((path) => ({
      pattern: new RegExp(`^${path.replace('.', '\\.')}$`),
      methods: { GET: async () => pageReply(await readFile(new URL('favicon.svg', PAGES)), 'image/svg+xml') },
    })),
    {
      pattern: /^\/assets\/(?<name>[^/]+)$/,
      methods: {
        GET: async (_request, params) => {
          const match = ASSET_NAME.exec(params.name!);
          if (match === null) throw new JobcastError('not_found', 'no such asset');
          const body = await readFile(new URL(params.name!, ASSETS)).catch(() => {
            throw new JobcastError('not_found', 'no such asset: run `npm run build` to bundle the demo pages');
          });
          return bytesReply(200, body, { 'content-type': TYPES[match.groups!.ext!]!, 'cache-control': 'no-cache' });
        },
      },
    },
  ];
}

/** The page shell, with its `jobcast-token` meta tag saying whether the server wants a token. */
async function servePage(name: string, needsToken: boolean): Promise<Buffer> {
  const html = await readFile(new URL(name, PAGES), 'utf8');
  return Buffer.from(needsToken ? html.replace('<meta name="jobcast-token" content="optional">', '<meta name="jobcast-token" content="required">') : html);
}

function pageReply(body: Buffer, type = 'text/html; charset=utf-8'): Reply {
  return bytesReply(200, body, { 'content-type': type, 'cache-control': 'no-cache' });
}
