// The uWebSockets.js loader: the native module here, and a clear reason wherever the
// package falls back to its JavaScript shim or is missing. Each failure is produced for
// real in a child process: a copy of the loader beside a copy of the package whose
// binary is missing or broken, the package's own fallback flag, no package at all.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadUws } from '../server/engines/uws/load-uws.js';
import { REPO_ROOT, spawnServer, tempDir } from './helpers/server.js';

const LOADER = join(REPO_ROOT, 'dist/server/engines/uws/load-uws.js');
const PACKAGE_DIR = dirname(createRequire(import.meta.url).resolve('uWebSockets.js/package.json'));
const BINARY = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;

interface Outcome {
  load: { ok: boolean; reason?: string; hasPublish?: boolean };
  stdout: string;
  stderr: string;
}

/** Runs `loader` in a fresh node and reports what it answered. */
function runLoader(loader: string, env: NodeJS.ProcessEnv = {}): Outcome {
  const script = `import { loadUws } from ${JSON.stringify(loader)};
const load = await loadUws();
console.log('RESULT ' + JSON.stringify(load.ok ? { ok: true, hasPublish: typeof load.uws.App().publish === 'function' } : load));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(run.status, 0, run.stderr);
  const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line !== undefined, run.stdout);
  return { load: JSON.parse(line.slice('RESULT '.length)) as Outcome['load'], stdout: run.stdout, stderr: run.stderr };
}

/**
 * A temp tree `app/load-uws.mjs` + `node_modules/uWebSockets.js` (a copy of the package
 * without its .node files, unless `withPackage` is false); returns the loader's path.
 */
async function isolatedLoader(t: TestContext, withPackage: boolean): Promise<{ loader: string; packageDir: string }> {
  const root = await tempDir(t, 'jobcast-uws-');
  const app = join(root, 'app');
  mkdirSync(app);
  const loader = join(app, 'load-uws.mjs');
  copyFileSync(LOADER, loader);
  const packageDir = join(root, 'node_modules', 'uWebSockets.js');
  if (withPackage) cpSync(PACKAGE_DIR, packageDir, { recursive: true, filter: (src) => !src.endsWith('.node') });
  return { loader, packageDir };
}

test('the native uWebSockets.js loads here', async () => {
  const load = await loadUws();
  assert.ok(load.ok, load.ok ? '' : load.reason);
  const app = load.uws.App();
  assert.equal(typeof app.publish, 'function');
  assert.equal(typeof (app as unknown as { close?: unknown }).close, 'function');
  assert.equal(await loadUws(), await loadUws(), 'one answer per process');
});

test('a package whose binary is missing loads its shim, and the loader refuses it with the reason', async (t) => {
  const { loader } = await isolatedLoader(t, true);
  const { load, stderr } = runLoader(loader);
  // The package did fall back (it says so on stderr): the loader saw the shim, not an import error.
  assert.match(stderr, /Falling back to a NodeJS implementation/);
  assert.equal(load.ok, false);
  assert.match(load.reason!, /loaded its JavaScript shim \(no SSLApp, getParts\)/);
  assert.match(load.reason!, new RegExp(`native binary ${BINARY.replaceAll('.', '\\.')} .* did not load: Cannot find module`));
});

test('a binary that is not a shared object gets the loader error in the reason', async (t) => {
  const { loader, packageDir } = await isolatedLoader(t, true);
  writeFileSync(join(packageDir, 'binaries', BINARY), 'this is not an ELF file\n'.repeat(100));
  const { load } = runLoader(loader);
  assert.equal(load.ok, false);
  assert.match(load.reason!, /JavaScript shim/);
  assert.match(load.reason!, /did not load: .*(invalid ELF header|not a valid|file too short|slice is not valid)/i);
});

test('UWS_USE_FALLBACK is named, and the package does not get to print on stdout', () => {
  const { load, stdout } = runLoader(LOADER, { UWS_USE_FALLBACK: '1' });
  assert.equal(load.ok, false);
  assert.match(load.reason!, /UWS_USE_FALLBACK=1 is set/);
  assert.doesNotMatch(stdout, /Using µWS fallback/);
  assert.deepEqual(runLoader(LOADER, { UWS_USE_FALLBACK: '0' }).load, { ok: true, hasPublish: true });
});

test('without the package the reason says it is not installed', async (t) => {
  const { loader } = await isolatedLoader(t, false);
  const { load } = runLoader(loader);
  assert.deepEqual(load, { ok: false, reason: 'the optional package uWebSockets.js is not installed (npm install --include=optional)' });
});

test('--engine uws stops with exit code 2 and the reason when only the shim loads', () => {
  const main = join(REPO_ROOT, 'dist/server/main.js');
  const shim = spawnSync(process.execPath, [main, '--engine', 'uws'], { encoding: 'utf8', env: { ...process.env, UWS_USE_FALLBACK: 'true' } });
  assert.equal(shim.status, 2);
  assert.match(shim.stderr, /--engine uws needs the native uWebSockets\.js, and UWS_USE_FALLBACK=true is set/);
});

test('--engine uws with the native module serves, and the start-up line names the engine', async (t) => {
  const server = await spawnServer(t, ['--engine', 'uws']);
  assert.equal(server.started.engine, 'uws');
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { ok: true });
});
