// Request/reply over the IPC channel of a forked child, for benchmarks that put each
// side (server, clients) in its own process so that neither shares the other's event loop.
import { fork } from 'node:child_process';
/** A forked child that answers requests by command name. */
export class ChildHandle {
    name;
    child;
    ready;
    nextId = 1;
    waiting = new Map();
    exited;
    constructor(name, child, readyTimeoutMs) {
        this.name = name;
        this.child = child;
        this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
        this.ready = new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`${name} did not start within ${readyTimeoutMs} ms`)), readyTimeoutMs);
            child.on('message', (message) => {
                if (message.kind === 'ready') {
                    clearTimeout(timer);
                    resolve(message.value);
                }
                else
                    this.childOnReply(message);
            });
            void this.exited.then((code) => {
                clearTimeout(timer);
                const err = new Error(`${name} exited (${code})`);
                reject(err);
                for (const entry of this.waiting.values())
                    entry.reject(err);
                this.waiting.clear();
            });
        });
        this.ready.catch(() => { });
    }
    /** Forks `modulePath` (a compiled .js file) with `args`; its stdout and stderr are inherited. */
    static fork(name, modulePath, args, options = {}) {
        const child = fork(modulePath, args, { execArgv: options.execArgv ?? [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        return new ChildHandle(name, child, options.readyTimeoutMs ?? 20_000);
    }
    /** Sends a command; rejects when the child answers with an error, exits, or takes longer than `timeoutMs`. */
    request(cmd, args = null, timeoutMs = 30_000) {
        const id = this.nextId++;
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.waiting.delete(id);
                reject(new Error(`${this.name}: '${cmd}' got no answer within ${timeoutMs} ms`));
            }, timeoutMs);
            this.waiting.set(id, { resolve: resolve, reject, timer });
            const request = { kind: 'request', id, cmd, args };
            this.child.send(request);
        });
    }
    /** Asks the child to exit (so that --cpu-prof gets written), then kills it after `graceMs`. */
    async stop(graceMs = 5000) {
        if (this.child.exitCode !== null || this.child.signalCode !== null)
            return;
        if (this.child.connected)
            this.child.send({ kind: 'request', id: 0, cmd: 'exit', args: null });
        const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
        await this.exited;
        clearTimeout(timer);
    }
    childOnReply(message) {
        const entry = this.waiting.get(message.id);
        if (entry === undefined)
            return;
        this.waiting.delete(message.id);
        clearTimeout(entry.timer);
        if (message.ok)
            entry.resolve(message.value);
        else
            entry.reject(new Error(`${this.name}: ${message.error}`));
    }
}
/**
 * In the child: answers the parent's requests with `handlers` (sync or async), exits on
 * `exit`, and announces `ready`. Exits when the parent goes away, so no child outlives a run.
 */
export function serveParent(handlers, ready) {
    if (process.send === undefined)
        throw new Error('this script is a benchmark child: run the benchmark, not this file');
    process.on('message', (request) => {
        if (request.cmd === 'exit')
            return void process.exit(0);
        const handler = handlers[request.cmd];
        Promise.resolve()
            .then(() => {
            if (handler === undefined)
                throw new Error(`unknown command '${request.cmd}'`);
            return handler(request.args);
        })
            .then((value) => process.send({ kind: 'reply', id: request.id, ok: true, value }), (err) => process.send({ kind: 'reply', id: request.id, ok: false, error: String(err?.stack ?? err) }));
    });
    process.on('disconnect', () => process.exit(0));
    process.send({ kind: 'ready', value: ready });
}
//# sourceMappingURL=ipc.js.map