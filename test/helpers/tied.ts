// Child processes that die with the test process that started them.
//
// Tests stop their redis-server and jobcast children in `t.after`, but a test run killed
// from outside (a CI timeout, kill -9, a second Ctrl-C) never runs those hooks, and the
// children would keep their ports, temp folders and CPU. On Linux, `setpriv --pdeathsig
// KILL` asks the kernel to kill the child when its parent goes, whatever the way; setpriv
// then execs the command, so the child keeps the pid the test sees and signals.
// Elsewhere (or without setpriv) the child is started as it is.

import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const SETPRIV = findSetpriv();

function findSetpriv(): string | null {
  if (process.platform !== 'linux') return null;
  try {
    execFileSync('setpriv', ['--help'], { stdio: 'ignore' });
    return 'setpriv';
  } catch {
    return null;
  }
}

/** `spawn(command, args, options)`, killed by the kernel if this process dies first. */
export function spawnTied(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  if (SETPRIV === null) return spawn(command, args, options);
  return spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args], options);
}
