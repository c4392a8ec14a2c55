// A real nginx (Debian's /usr/sbin/nginx) in front of jobcast processes, as the README's
// deployment section runs it: the site is deploy/nginx/jobcast.conf itself, rendered with
// the test's upstream ports and a free listening port. nginx runs as a non-root user with
// a configuration, temp folders, pid file and logs of its own in a temp folder, and is
// stopped after the test. Under CI=true a missing nginx fails the run (.ci/run installs it).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { HANG_MS } from './patience.js';
import { freePort } from './redis.js';
import { REPO_ROOT } from './server.js';

export const NGINX = '/usr/sbin/nginx';
/** The site configuration the README shows. */
export const NGINX_SITE = join(REPO_ROOT, 'deploy/nginx/jobcast.conf');
/** Who nginx runs as when the tests run as root (Debian's nobody:nogroup). */
const NOBODY = { uid: 65534, gid: 65534 };

/** Why the nginx tests cannot run here, or null when they can. Under CI=true they never skip. */
export function nginxSkipReason(): string | null {
  try {
    execFileSync(NGINX, ['-v'], { stdio: 'ignore' });
    return null;
  } catch {
    if (process.env.CI === 'true') throw new Error(`${NGINX} is missing: .ci/run installs nginx`);
    return `no ${NGINX} on this machine`;
  }
}

/**
 * The site file with the test's values: its upstream `server` lines replaced by
 * `upstreams` (`127.0.0.1:PORT`), and `listen 80;` by the test's port. Throws when the
 * file no longer has exactly the lines replaced, so that it cannot drift from what is tested.
 */
export function renderSite(site: string, upstreams: readonly string[], port: number): string {
  const servers = /^( *)server 127\.0\.0\.1:8080;\n\1server 127\.0\.0\.1:8081;\n/m;
  const listen = /^( *)listen 80;\n/m;
  if (!servers.test(site) || !listen.test(site)) throw new Error(`${NGINX_SITE} no longer has the upstream servers and listen line the tests replace`);
  return site
    .replace(servers, (_all, indent: string) => upstreams.map((u) => `${indent}server ${u};\n`).join(''))
    .replace(listen, (_all, indent: string) => `${indent}listen 127.0.0.1:${port};\n`);
}

export interface Nginx {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** nginx's error log so far. */
  errorLog(): Promise<string>;
  /** Stops nginx (SIGQUIT: its own graceful stop) and waits for its exit. */
  stop(): Promise<void>;
}

/** Starts nginx in front of `upstreams` (`127.0.0.1:PORT` each); resolves once it accepts connections. */
export async function startNginx(t: TestContext, upstreams: readonly string[]): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'jobcast-nginx-'));
  const port = await freePort();
  const site = renderSite(await readFile(NGINX_SITE, 'utf8'), upstreams, port);
  await writeFile(join(dir, 'jobcast.conf'), site);
  await writeFile(join(dir, 'nginx.conf'), wrapper(dir));
  const asRoot = process.getuid?.() === 0;
  // As root, nginx would keep a root master process; the test runs it as nobody instead.
  if (asRoot) {
    await chown(dir, NOBODY.uid, NOBODY.gid);
    await chmod(dir, 0o700);
  }
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(asRoot ? NOBODY : {}),
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
    await exited;
  };
  t.after(async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  });
  await Promise.race([
    waitForListening(port),
    exited.then(async () => {
      throw new Error(`nginx exited at start: ${stderr}${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}`);
    }),
  ]);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    errorLog: () => readFile(join(dir, 'error.log'), 'utf8').catch(() => ''),
    stop,
  };
}

/** The main configuration around the site: everything nginx writes stays in `dir`. */
function wrapper(dir: string): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 4096; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/client-body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    include ${dir}/jobcast.conf;
}
`;
}

/** Resolves once something accepts TCP connections on the port. */
async function waitForListening(port: number): Promise<void> {
  const deadline = Date.now() + HANG_MS;
  for (;;) {
    const isUp = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (isUp) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on port ${port} within ${HANG_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
