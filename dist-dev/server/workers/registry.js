// Which processors exist and where their modules are (SPEC 4).
//
// The registry only maps names to absolute file paths; modules are imported inside the
// worker threads, never on the main thread, so a user processor with heavy top-level
// code cannot stall the server at start.
import { readdir } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config.js';
/** Processors that ship with the server. */
export const BUILTIN_PROCESSORS = ['sha256', 'lines', 'gzip', 'delay'];
// A processor name appears in URLs, logs and upload fields, so it is kept to a safe
// alphabet. Files whose name does not fit (dotfiles like `.eslintrc.js`, editor backups
// like `~foo.js`, names with spaces) are skipped without a log line: a processor folder
// often holds such files, and the names the server accepts are listed by names().
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MODULE_EXTENSIONS = new Set(['.js', '.mjs']);
/**
 * The built-in processors plus every `*.js`/`*.mjs` regular file directly in
 * `processorDir` (null: built-ins only). Rejects with ConfigError naming
 * `--processor-dir` when the folder cannot be read or a name is taken twice.
 */
export async function loadProcessorRegistry(processorDir) {
    const paths = new Map();
    for (const name of BUILTIN_PROCESSORS) {
        // Compiled next to this file: dist/server/workers/processors/<name>.js.
        paths.set(name, fileURLToPath(new URL(`./processors/${name}.js`, import.meta.url)));
    }
    if (processorDir !== null) {
        for (const [name, path] of await readProcessorDir(resolve(processorDir))) {
            const taken = paths.get(name);
            if (taken !== undefined)
                throw nameClash(name, path, taken);
            paths.set(name, path);
        }
    }
    return createRegistry(paths);
}
function nameClash(name, path, taken) {
    const isBuiltin = BUILTIN_PROCESSORS.includes(name);
    const owner = isBuiltin ? `the built-in processor '${name}'` : `'${taken}'`;
    return new ConfigError(`--processor-dir: '${path}' gives the name '${name}', already taken by ${owner}; rename the file`);
}
/** Name -> absolute path for the processor files in `dir`, sorted so that a clash is reported the same way every time. */
async function readProcessorDir(dir) {
    let entries;
    try {
        entries = await readdir(dir, { withFileTypes: true });
    }
    catch (err) {
        const reason = err.code ?? String(err);
        throw new ConfigError(`--processor-dir '${dir}' cannot be read (${reason}): point it at an existing folder of *.js or *.mjs processor files`);
    }
    const found = [];
    for (const entry of entries) {
        // isFile() is false for symlinks, folders, sockets and FIFOs: a link could lead
        // outside the folder, and only regular files can be imported safely.
        if (!entry.isFile())
            continue;
        const extension = extname(entry.name);
        if (!MODULE_EXTENSIONS.has(extension))
            continue;
        const name = entry.name.slice(0, -extension.length);
        if (!NAME_PATTERN.test(name))
            continue;
        // readdir names never contain a separator, so the path stays inside `dir`.
        found.push([name, join(dir, entry.name)]);
    }
    return found.sort((a, b) => (a[1] < b[1] ? -1 : 1));
}
function createRegistry(paths) {
    const names = Object.freeze([...paths.keys()].sort());
    return Object.freeze({
        has: (name) => paths.has(name),
        names: () => names,
        pathOf(name) {
            const path = paths.get(name);
            if (path === undefined)
                throw new Error(`no processor named '${name}' is registered`);
            return path;
        },
    });
}
//# sourceMappingURL=registry.js.map