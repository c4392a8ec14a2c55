"use strict";
// The module piscina loads in each worker thread: a CommonJS file on purpose.
//
// piscina loads its task module with require(). On Node 20, require() of an ES module
// that is interrupted by the thread's termination (the pool shrinking, a stuck file's
// thread killed, the server stopping while a thread still starts) fails a native
// assertion and aborts the whole process. import() does not have that flaw, so this
// entry is CommonJS and loads the ES module worker with import() on its first task.
Object.defineProperty(exports, "__esModule", { value: true });
let loading;
module.exports = async function runTask(task) {
    loading ??= import('./worker.js').then((worker) => worker.default);
    return (await loading)(task);
};
//# sourceMappingURL=worker-entry.cjs.map