// The demo pages (client-demo/) and their bundled assets. Only names matching a fixed
// pattern are served from one fixed folder: no request path ever reaches the filesystem.
import { readFile } from 'node:fs/promises';
import { JobcastError } from '../errors.js';
/** Page shells, from the source tree (compiled code runs from dist/server/http/). */
const PAGES = new URL('../../../client-demo/', import.meta.url);
/** Scripts and styles bundled by client-demo/build.mjs. */
const ASSETS = new URL('../../client-demo/', import.meta.url);
const ASSET_NAME = /^(?<base>[a-z][a-z0-9-]*)\.(?<ext>js|css|js\.map|css\.map)$/;
const TYPES = {
    js: 'text/javascript; charset=utf-8',
    css: 'text/css; charset=utf-8',
    'js.map': 'application/json',
    'css.map': 'application/json',
};
export function staticRoutes() {
    return [
        { pattern: /^\/$/, methods: { GET: ({ res }) => servePage(res, 'index.html') } },
        { pattern: /^\/dashboard$/, methods: { GET: ({ res }) => servePage(res, 'dashboard.html') } },
        {
            pattern: /^\/assets\/(?<name>[^/]+)$/,
            methods: {
                GET: async ({ res, params }) => {
                    const match = ASSET_NAME.exec(params.name);
                    if (match === null)
                        throw new JobcastError('not_found', 'no such asset');
                    const body = await readFile(new URL(params.name, ASSETS)).catch(() => {
                        throw new JobcastError('not_found', 'no such asset: run `npm run build` to bundle the demo pages');
                    });
                    res.writeHead(200, { 'content-type': TYPES[match.groups.ext], 'content-length': body.length, 'cache-control': 'no-cache' }).end(body);
                },
            },
        },
    ];
}
async function servePage(res, name) {
    const html = await readFile(new URL(name, PAGES));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': html.length, 'cache-control': 'no-cache' }).end(html);
}
//# sourceMappingURL=static-routes.js.map