// Kills the process groups of command processors when the server dies without the
// chance to do it itself (kill -9, a native crash, the OOM killer).
//
// A child of a process that dies is not told by the kernel, except on Linux through a
// parent-death signal, which needs native code (prctl) in the child, reaches only the
// direct child, and not its own children. So the server starts one small watcher, a
// POSIX shell reading a pipe from the server, and tells it the process group of every
// command child it starts and ends. When the server dies, the kernel closes the pipe;
// the watcher reads end-of-file, kills every group it still holds with SIGKILL, and
// exits. Groups are what processors run in (each child is spawned detached, as a group
// leader), so helpers a processor started itself go too, unless they left its group.
// The watcher ignores SIGINT, SIGTERM and SIGHUP: a Ctrl-C in the terminal reaches the
// whole foreground group, and the server, which also gets it, stops the children itself.

import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../logger.js';

const WATCHER_SCRIPT = `
trap '' INT TERM HUP
groups=' '
while IFS= read -r line; do
  id=\${line#?}
  case "$id" in ''|*[!0-9]*) continue ;; esac
  case "$line" in
    +*) groups="$groups$id " ;;
    -*) kept=' '; for g in $groups; do [ "$g" = "$id" ] || kept="$kept$g "; done; groups=$kept ;;
  esac
done
for g in $groups; do kill -9 "-$g" 2>/dev/null; done
`;

/** Tracks live process groups in a watcher process that outlives a crash of the server. */
export class GroupReaper {
  readonly #logger: Logger;
  readonly #groups = new Set<number>();
  #watcher: ChildProcess | null = null;
  #isClosed = false;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Hands `pgid` to the watcher; call right after spawning its leader. */
  add(pgid: number): void {
    if (this.#isClosed || process.platform === 'win32') return;
    this.#groups.add(pgid);
    this.#write(`+${pgid}\n`);
  }

  /** The group is gone (its members were killed or exited): the watcher forgets it. */
  remove(pgid: number): void {
    if (!this.#groups.delete(pgid)) return;
    this.#write(`-${pgid}\n`);
  }

  /** Ends the watcher; it kills any group still listed (none after an orderly stop). Safe to call twice. */
  close(): void {
    this.#isClosed = true;
    this.#watcher?.stdin?.end();
    this.#watcher = null;
  }

  /** The watcher's pid, for tests; null before the first group. */
  get pid(): number | null {
    return this.#watcher?.pid ?? null;
  }

  #write(line: string): void {
    const watcher = this.#watcher ?? this.#start();
    watcher?.stdin?.write(line);
  }

  #start(): ChildProcess | null {
    if (this.#isClosed) return null;
    const watcher = spawn('/bin/sh', ['-c', WATCHER_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    this.#watcher = watcher;
    // The watcher must not keep the server's event loop alive, nor its pipe.
    watcher.unref();
    watcher.stdin?.on('error', () => undefined);
    (watcher.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    watcher.once('error', (err) => this.#watcherGone(watcher, err));
    watcher.once('exit', () => this.#watcherGone(watcher, null));
    // A fresh watcher learns every group still alive.
    for (const pgid of this.#groups) watcher.stdin?.write(`+${pgid}\n`);
    return watcher;
  }

  #watcherGone(watcher: ChildProcess, err: Error | null): void {
    if (this.#watcher !== watcher) return;
    this.#watcher = null;
    if (this.#isClosed) return;
    this.#logger.warn({ err }, 'the process-group watcher of command processors ended; a new one starts with the next child');
  }
}
