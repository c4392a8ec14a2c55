// The engines are the only part of the server that touches a server library: nothing
// outside server/engines/ imports node:http, ws or uWebSockets.js, and the arrows between
// the parts point one way (engines -> transport -> http -> hub). Read from the sources,
// so that a stray import fails here rather than in a second engine.

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from './helpers/server.js';

const SERVER = join(REPO_ROOT, 'server');

/** Server libraries: node:http and its kin, ws, uWebSockets.js (and their subpaths). */
const SERVER_LIBRARIES = /^(?:(?:node:)?(?:http|https|http2)|ws|uWebSockets\.js)(?:\/.*)?$/;

/** Folders of server/ and the folders their files must not import from. */
const NEVER: Readonly<Record<string, readonly string[]>> = {
  protocol: ['engines', 'transport', 'http', 'hub'],
  hub: ['engines', 'transport', 'http'],
  http: ['engines', 'transport'],
  transport: ['engines'],
  jobs: ['engines', 'transport', 'http', 'hub'],
  store: ['engines', 'transport', 'http', 'hub'],
  queue: ['engines', 'transport', 'http', 'hub'],
  feed: ['engines', 'transport', 'http', 'hub'],
  spool: ['engines', 'transport', 'http', 'hub'],
  roster: ['engines', 'transport', 'http', 'hub'],
  workers: ['engines', 'transport', 'http', 'hub'],
};

interface Source {
  /** Relative to server/, with `/`. */
  path: string;
  specifiers: string[];
}

async function sources(dir: string): Promise<Source[]> {
  const found: Source[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await sources(path)));
    else if (/\.c?ts$/.test(entry.name)) found.push({ path: relative(SERVER, path).split(sep).join('/'), specifiers: importsOf(await readFile(path, 'utf8')) });
  }
  return found;
}

/** Every module a file names: static and type imports, re-exports, import(), require(). */
function importsOf(text: string): string[] {
  const patterns = [/\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s*['"]([^'"]+)['"]/gm];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]!));
}

/** The folder of server/ a relative specifier of `from` lands in ('' for server/ itself), or null for a package. */
function folderOf(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const target = relative(SERVER, resolve(SERVER, dirname(from), specifier)).split(sep);
  return target.length > 1 ? target[0]! : '';
}

test('nothing outside server/engines/ imports node:http, ws or uWebSockets.js', async () => {
  const all = await sources(SERVER);
  assert.ok(all.length > 50, `read ${all.length} source files`);
  const offenders = all
    .filter((file) => !file.path.startsWith('engines/'))
    .flatMap((file) => file.specifiers.filter((s) => SERVER_LIBRARIES.test(s)).map((s) => `${file.path} imports ${s}`));
  assert.deepEqual(offenders, []);
  // The check sees what it looks for: the engines do import them.
  const engines = all.filter((file) => file.path.startsWith('engines/node/')).flatMap((file) => file.specifiers);
  assert.ok(engines.includes('node:http') && engines.includes('ws'), 'the node engine imports node:http and ws');
});

test('the arrows between the parts point one way: engines -> transport -> http -> hub, none into the engines', async () => {
  const offenders: string[] = [];
  for (const file of await sources(SERVER)) {
    const forbidden = NEVER[file.path.split('/')[0]!];
    if (forbidden === undefined) continue;
    for (const specifier of file.specifiers) {
      const folder = folderOf(file.path, specifier);
      if (folder !== null && forbidden.includes(folder)) offenders.push(`${file.path} imports ${specifier}`);
    }
  }
  assert.deepEqual(offenders, []);
});
