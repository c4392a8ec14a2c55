// Child processes in tests: whether python3 is here (CI must have it), and whether a
// process is still alive (a zombie counts as gone: it runs nothing and holds nothing).

import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { HANG_MS } from './patience.js';

/** Why the Python tests cannot run here, or null when they can. Under CI=true they never skip. */
export function pythonSkipReason(): string | null {
  try {
    execFileSync('python3', ['-c', 'import sys; assert sys.version_info >= (3, 9)'], { stdio: 'ignore' });
    return null;
  } catch {
    if (process.env.CI === 'true') throw new Error('python3 (3.9 or newer) is missing: .ci/run installs it');
    return 'no python3 3.9+ on this machine';
  }
}

/** Whether `pid` is a live process (not a zombie). */
export async function isAlive(pid: number): Promise<boolean> {
  if (process.platform === 'linux') {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (stat === null) return false;
    // The state letter follows the command name in parentheses, which may itself hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once none of `pids` is alive; rejects with the survivors after `timeoutMs`. */
export async function waitGone(pids: readonly number[], timeoutMs = HANG_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = [];
    for (const pid of pids) if (await isAlive(pid)) alive.push(pid);
    if (alive.length === 0) return;
    if (Date.now() > deadline) throw new Error(`processes still alive after ${timeoutMs} ms: ${alive.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The pids written one per line to `path` (by a fixture processor); [] when it does not exist yet. */
export async function readPids(path: string): Promise<number[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

/** The pids in `path` once there are at least `count`; rejects after `timeoutMs`. */
export async function waitForPids(path: string, count: number, timeoutMs = HANG_MS): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = await readPids(path);
    if (pids.length >= count) return pids;
    if (Date.now() > deadline) throw new Error(`${path} holds ${pids.length} pids after ${timeoutMs} ms, expected ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
