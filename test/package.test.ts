// The npm package as users get it: `npm pack` in a copy of the source tree (prepack
// builds dist/), the tarball installed in an empty project, and then everything a user
// runs from there: `npx jobcast serve|worker|upload|watch`, a Python processor from the
// package's examples, `import ... from 'jobcast/client'` and 'jobcast/reducer' in Node,
// type-checked with TypeScript (Node and bundler resolution), and bundled with esbuild.
// Slow on purpose: it compiles better-sqlite3 as an install would.

import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { cp, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { pythonSkipReason } from './helpers/processes.js';
import { REPO_ROOT, tempDir, withTestEngine } from './helpers/server.js';

const run = promisify(execFile);
const skip = pythonSkipReason() ?? false;
const TSC = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end without throwing on a non-zero exit. At the machine's normal
 * priority: at the lowest one, packing and compiling better-sqlite3 got next to no CPU
 * while other processes kept both cores busy, and the test timed out. No test beside it
 * depends on latencies (responsiveness is shown by order), so it takes its fair share.
 */
function exec(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A copy of the working tree (what git would commit), with the repo's node_modules linked in. */
async function copySource(dest: string): Promise<void> {
  const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  for (const file of stdout.split('\0').filter(Boolean)) {
    await mkdir(join(dest, dirname(file)), { recursive: true });
    await cp(join(REPO_ROOT, file), join(dest, file), { preserveTimestamps: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err; // deleted but not yet committed
    });
  }
  await symlink(join(REPO_ROOT, 'node_modules'), join(dest, 'node_modules'));
}

test('npm pack gives a package that works installed elsewhere', { skip, timeout: 30 * 60_000 }, async (t) => {
  const dir = await tempDir(t, 'jobcast-package-');
  const source = join(dir, 'source');
  const app = join(dir, 'app');
  await copySource(source);

  const packed = await exec('npm', ['pack', '--pack-destination', dir, '--json'], source);
  assert.equal(packed.code, 0, packed.stderr);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const paths = info!.files.map((f) => f.path);
  for (const needed of ['dist/cli/main.js', 'dist/server/main.js', 'dist/browser/jobcast-client.js', 'dist/client/jobcast-client.d.ts', 'client-demo/index.html', 'python/jobcast_processor.py', 'examples/python/csv_to_sqlite.py']) {
    assert.ok(paths.includes(needed), `the package holds ${needed}`);
  }
  assert.ok(!paths.some((p) => p.startsWith('dist/test/') || p.startsWith('test/') || p.endsWith('.ts') && !p.endsWith('.d.ts')), 'no tests and no TypeScript sources');

  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const installed = await exec('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, info!.filename)], app);
  assert.equal(installed.code, 0, installed.stderr);
  assert.ok((await readdir(join(app, 'node_modules/better-sqlite3/build/Release'))).includes('better_sqlite3.node'), 'better-sqlite3 built on install');
  // Only the package's dependencies are there: nothing it needs at run time is a devDependency.
  for (const dev of ['typescript', 'esbuild', 'playwright-core']) {
    assert.ok(!(await readdir(join(app, 'node_modules'))).includes(dev), `${dev} is not installed`);
  }

  const npx = (...args: string[]) => exec('npx', ['--no', 'jobcast', ...args], app);
  const refused = await npx('worker', '--store', 'memory');
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /worker/);

  const examples = join(app, 'node_modules/jobcast/examples/python');
  const server = spawn('npx', ['--no', 'jobcast', 'serve', ...withTestEngine(['--port', '0', '--store', 'memory', '--processor-dir', examples])], {
    cwd: app,
    env: { ...process.env, CSV_DB: join(app, 'rows.sqlite3') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  t.after(() => {
    if (server.exitCode === null) process.kill(-server.pid!, 'SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: server.stdout! }).on('line', (line) => {
      const entry = line.startsWith('{') ? (JSON.parse(line) as { msg?: string; url?: string }) : {};
      if (entry.msg === 'jobcast listening') resolve(entry.url!);
    });
    server.once('exit', (code) => reject(new Error(`npx jobcast serve exited (${code})`)));
  });
  for (const path of ['/', '/jobcast-client.js', '/openapi.json']) {
    assert.equal((await fetch(`${url}${path}`)).status, 200, path);
  }

  await cp(join(examples, 'people.csv'), join(app, 'people.csv'));
  const upload = await npx('upload', 'people.csv', '--server', url, '--processor', 'csv_to_sqlite');
  assert.equal(upload.code, 0, upload.stdout + upload.stderr);
  const jobId = /job (\S+) completed/.exec(upload.stdout)![1]!;
  const watched = await npx('watch', jobId, '--server', url);
  assert.equal(watched.code, 0, watched.stderr);

  // ESM in Node: the client follows the job; the reducer folds the same events.
  await writeFile(
    join(app, 'follow.mjs'),
    `import WebSocket from 'ws';
import { createClient } from 'jobcast/client';
import { applyEvent, foldEvents } from 'jobcast/reducer';
const client = createClient({ url: process.argv[2], WebSocket });
client.watch(process.argv[3], (job) => {
  if (job === null || job.status !== 'completed') return;
  console.log(JSON.stringify({ status: job.status, rows: job.files[0].result.rows, reducer: typeof applyEvent, fold: typeof foldEvents }));
  client.close();
});
`,
  );
  const followed = await exec(process.execPath, ['follow.mjs', url, jobId], app);
  assert.equal(followed.code, 0, followed.stderr);
  assert.deepEqual(JSON.parse(followed.stdout), { status: 'completed', rows: 20, reducer: 'function', fold: 'function' });

  // Types, with Node's resolution and with a bundler's.
  await writeFile(
    join(app, 'typed.ts'),
    `import { createClient, type JobcastClient, type Snapshot } from 'jobcast/client';
import { applyEvent, type JobEvent } from 'jobcast/reducer';
declare const WebSocketImpl: import('jobcast/client').WebSocketConstructorLike;
const client: JobcastClient = createClient({ url: 'http://127.0.0.1:8080', WebSocket: WebSocketImpl });
client.watch('V1StGXR8_Z5jdHi6B-myT', (job: Snapshot | null) => void job?.progress.fraction.toFixed(2));
export const fold = (s: Snapshot | null, e: JobEvent): Snapshot => applyEvent(s, e);
// @ts-expect-error: the types are real, not any
export const wrong: number = applyEvent(null, {} as JobEvent);
`,
  );
  for (const [module, moduleResolution] of [['nodenext', 'nodenext'], ['esnext', 'bundler']] as const) {
    const config = `tsconfig.${moduleResolution}.json`;
    const compilerOptions = { strict: true, noEmit: true, types: [], lib: ['es2022', 'dom'], module, moduleResolution };
    await writeFile(join(app, config), JSON.stringify({ compilerOptions, files: ['typed.ts'] }));
    const checked = await exec(process.execPath, [TSC, '-p', config], app);
    assert.equal(checked.code, 0, `tsc with ${moduleResolution} resolution: ${checked.stdout}${checked.stderr}`);
  }

  // A bundler resolves the same entry points for the browser.
  await writeFile(join(app, 'page.js'), `import { createClient } from 'jobcast/client';\nimport { applyEvent } from 'jobcast/reducer';\nexport { createClient, applyEvent };\n`);
  const { build } = await import('esbuild');
  const bundled = await build({ absWorkingDir: app, entryPoints: ['page.js'], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' });
  const text = bundled.outputFiles[0]!.text;
  assert.match(text, /createClient/);
  assert.doesNotMatch(text, /from\s*["']node:/, 'nothing Node-only in the browser bundle');

  process.kill(-server.pid!, 'SIGTERM');
  const exitCode = await new Promise((resolve) => server.once('exit', (code, signal) => resolve(code ?? signal)));
  assert.ok(exitCode === 0 || exitCode === 'SIGTERM', `the server stopped on SIGTERM (${String(exitCode)})`);
});
