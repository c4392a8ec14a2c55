// The module piscina loads in each worker thread: a CommonJS file on purpose.
//
// piscina loads its task module with require(). On Node 20, require() of an ES module
// that is interrupted by the thread's termination (the pool shrinking, a stuck file's
// thread killed, the server stopping while a thread still starts) fails a native
// assertion and aborts the whole process. import() does not have that flaw, so this
// entry is CommonJS and loads the ES module worker with import() on its first task.

import type { WorkerResult, WorkerTask } from './messages.js';

type RunFile = (task: WorkerTask) => Promise<WorkerResult>;

let loading: Promise<RunFile> | undefined;

module.exports = async function runTask(task: WorkerTask): Promise<WorkerResult> {
  loading ??= import('./worker.js').then((worker: { default: RunFile }) => worker.default);
  return (await loading)(task);
};
