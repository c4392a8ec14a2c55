// Which processors exist, what kind each is, and where its file is (SPEC 4).
//
// The registry only maps names to absolute file paths; modules are imported inside the
// worker threads and commands are started by the command pool, never here, so a user
// processor with heavy start-up cannot stall the server at start.

import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config.js';

/**
 * A JavaScript module run in a worker thread, or a program run as a long-lived child
 * process that speaks the line protocol (commands/protocol.ts).
 */
export type ProcessorEntry =
  | { kind: 'module'; path: string }
  /** `argv[0]` is the program (the file itself, or `python3` for a `*.py` without its run bit). */
  | { kind: 'command'; path: string; argv: readonly string[] };

/** What a processor's output files are, for their download (SPEC 2.2). */
export interface ProcessorOutput {
  /** Added to the input file's name to name the download: `.gz`. */
  readonly suffix: string;
  /** The download's Content-Type. */
  readonly contentType: string;
}

/** The processors the server can run, by name. */
export interface ProcessorRegistry {
  /** Whether `name` is registered. */
  has(name: string): boolean;
  /** Every registered name, sorted. */
  names(): readonly string[];
  /** Absolute path of the processor's file; throws for a name that is not registered (check `has` first). */
  pathOf(name: string): string;
  /** The processor's kind and how to run it; throws for a name that is not registered. */
  entryOf(name: string): ProcessorEntry;
  /**
   * What the outputs of `name` are. Any name: a job keeps the name of a processor that a
   * later start may no longer have, and its outputs still download.
   */
  outputOf(name: string): ProcessorOutput;
}

/** Processors that ship with the server. */
export const BUILTIN_PROCESSORS = ['sha256', 'lines', 'gzip', 'delay'] as const;

/** Outputs of any processor but the ones below: bytes of no known type. */
const DEFAULT_OUTPUT: ProcessorOutput = Object.freeze({ suffix: '.out', contentType: 'application/octet-stream' });
/** Built-ins whose outputs have a type of their own; the names are theirs alone (nameClash). */
const BUILTIN_OUTPUTS: ReadonlyMap<string, ProcessorOutput> = new Map([['gzip', Object.freeze({ suffix: '.gz', contentType: 'application/gzip' })]]);

// A processor name appears in URLs, logs and upload fields, so it is kept to a safe
// alphabet. Files whose name does not fit (dotfiles like `.eslintrc.js`, editor backups
// like `~foo.js`, names with spaces) are skipped without a log line: a processor folder
// often holds such files, and the names the server accepts are listed by names().
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MODULE_EXTENSIONS = new Set(['.js', '.mjs']);
/** Any execute bit: owner, group or others. */
const EXECUTE_BITS = 0o111;

/**
 * The built-in processors plus the processors directly in `processorDir` (null:
 * built-ins only): every `*.js`/`*.mjs` regular file is a module; every other regular
 * file with an execute bit, and every `*.py` file, is a command. Rejects with
 * ConfigError naming `--processor-dir` when the folder cannot be read or a name is
 * taken twice.
 */
export async function loadProcessorRegistry(processorDir: string | null): Promise<ProcessorRegistry> {
  const entries = new Map<string, ProcessorEntry>();
  for (const name of BUILTIN_PROCESSORS) {
    // Compiled next to this file: dist/server/workers/processors/<name>.js.
    entries.set(name, { kind: 'module', path: fileURLToPath(new URL(`./processors/${name}.js`, import.meta.url)) });
  }
  if (processorDir !== null) {
    for (const [name, entry] of await readProcessorDir(resolve(processorDir))) {
      const taken = entries.get(name);
      if (taken !== undefined) throw nameClash(name, entry.path, taken.path);
      entries.set(name, entry);
    }
  }
  return createRegistry(entries);
}

function nameClash(name: string, path: string, taken: string): ConfigError {
  const isBuiltin = (BUILTIN_PROCESSORS as readonly string[]).includes(name);
  const owner = isBuiltin ? `the built-in processor '${name}'` : `'${taken}'`;
  return new ConfigError(`--processor-dir: '${path}' gives the name '${name}', already taken by ${owner}; rename the file`);
}

/** Name -> entry for the processor files in `dir`, sorted by path so that a clash is reported the same way every time. */
async function readProcessorDir(dir: string): Promise<Array<[string, ProcessorEntry]>> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(
      `--processor-dir '${dir}' cannot be read (${reason}): point it at an existing folder of processor files (*.js, *.mjs, *.py or executables)`,
    );
  }
  const found: Array<[string, ProcessorEntry]> = [];
  for (const entry of entries) {
    // isFile() is false for symlinks, folders, sockets and FIFOs: a link could lead
    // outside the folder, and only regular files are run.
    if (!entry.isFile()) continue;
    const extension = extname(entry.name);
    const name = extension === '' ? entry.name : entry.name.slice(0, -extension.length);
    if (!NAME_PATTERN.test(name)) continue;
    // readdir names never contain a separator, so the path stays inside `dir`.
    const path = join(dir, entry.name);
    const processor = await classify(path, extension);
    if (processor !== null) found.push([name, processor]);
  }
  return found.sort((a, b) => (a[1].path < b[1].path ? -1 : 1));
}

/**
 * What kind of processor the file at `path` is, or null when it is none (a README, a
 * data file). An executable `*.py` runs as itself, so its `#!` line can name the
 * interpreter of a virtualenv; one without its run bit runs with `python3`.
 */
async function classify(path: string, extension: string): Promise<ProcessorEntry | null> {
  if (MODULE_EXTENSIONS.has(extension)) return { kind: 'module', path };
  const mode = await stat(path).then((s) => s.mode, () => null);
  if (mode === null) return null;
  if ((mode & EXECUTE_BITS) !== 0) return { kind: 'command', path, argv: Object.freeze([path]) };
  if (extension === '.py') return { kind: 'command', path, argv: Object.freeze(['python3', path]) };
  return null;
}

function createRegistry(entries: ReadonlyMap<string, ProcessorEntry>): ProcessorRegistry {
  const names = Object.freeze([...entries.keys()].sort());
  const entryOf = (name: string): ProcessorEntry => {
    const entry = entries.get(name);
    if (entry === undefined) throw new Error(`no processor named '${name}' is registered`);
    return entry;
  };
  return Object.freeze({
    has: (name: string) => entries.has(name),
    names: () => names,
    pathOf: (name: string) => entryOf(name).path,
    entryOf,
    outputOf: (name: string) => BUILTIN_OUTPUTS.get(name) ?? DEFAULT_OUTPUT,
  });
}
