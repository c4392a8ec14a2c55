// Loads the native uWebSockets.js, or says why it cannot be had.
//
// The package (an npm alias of @trufflesuite/uws-js-unofficial, an optional dependency)
// picks its binary as `binaries/uws_<platform>_<arch>_<ABI>.node` and, when that does not
// load (a missing file, a glibc too old, another Node ABI) or UWS_USE_FALLBACK is set,
// silently hands back a JavaScript shim built on `ws` instead (src/uws.js). The shim
// serves HTTP but its `publish` throws "Not implemented", and it has no `close()`,
// `SSLApp` or `getParts`: serving with it would be slower than the ws engine and wrong.
// So the module is judged by what it exports, not by whether the import threw.
//
// This file imports node: modules only, so that a test can run a copy of it beside a
// copy of the package in a temp dir (see test/uws-loader.test.ts).

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type UwsModule = typeof import('uWebSockets.js');

/** The native module, or a sentence saying why it is not there (for "--engine uws needs ...: REASON"). */
export type UwsLoad = { readonly ok: true; readonly uws: UwsModule } | { readonly ok: false; readonly reason: string };

/** The package name, as package.json aliases it. */
const PACKAGE = 'uWebSockets.js';
/** Exports the native module has and the shim lacks (the shim's App also throws on publish). */
const NATIVE_ONLY_EXPORTS = ['SSLApp', 'getParts'] as const;
/** The values of UWS_USE_FALLBACK that make the package load its shim (src/uws.js). */
const FALLBACK_FLAGS: ReadonlySet<string> = new Set(['true', 'True', 'TRUE', '1']);

let loading: Promise<UwsLoad> | null = null;

/** Loads uWebSockets.js once per process; every caller gets the same answer. Never rejects. */
export function loadUws(): Promise<UwsLoad> {
  return (loading ??= load());
}

async function load(): Promise<UwsLoad> {
  // Checked first, so that the package does not print its "Using µWS fallback" line on
  // stdout (where the server's JSON log lines go) before being refused anyway.
  const flag = process.env.UWS_USE_FALLBACK;
  if (flag !== undefined && FALLBACK_FLAGS.has(flag)) {
    return { ok: false, reason: `UWS_USE_FALLBACK=${flag} is set, which makes ${PACKAGE} use its JavaScript shim; unset it` };
  }
  let uws: UwsModule;
  try {
    // Only the default import works from ESM: the package's CommonJS exports are built
    // at run time, so Node cannot see them as named exports.
    uws = (await import(PACKAGE)).default as UwsModule;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND') {
      return { ok: false, reason: `the optional package ${PACKAGE} is not installed (npm install --include=optional)` };
    }
    return { ok: false, reason: `${PACKAGE} failed to load: ${firstLine(err)}` };
  }
  const missing = NATIVE_ONLY_EXPORTS.filter((name) => typeof (uws as Record<string, unknown>)[name] !== 'function');
  if (missing.length === 0) return { ok: true, uws };
  return { ok: false, reason: `${PACKAGE} loaded its JavaScript shim (no ${missing.join(', ')}): ${whyNotNative()}` };
}

/**
 * Why the package's binary did not load: the same require it tried, done again for its
 * error (a failed dlopen is not cached, so it fails the same way).
 */
function whyNotNative(): string {
  const binary = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = join(dirname(require.resolve(`${PACKAGE}/package.json`)), 'binaries', binary);
  } catch (err) {
    return `its package.json cannot be found: ${firstLine(err)}`;
  }
  try {
    require(path);
  } catch (err) {
    return `its native binary ${binary} (for Node ABI ${process.versions.modules}) did not load: ${firstLine(err)}`;
  }
  return `its native binary ${binary} loads when required directly; the package chose the shim anyway`;
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}
