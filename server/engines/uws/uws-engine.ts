// The uws engine (`--engine uws`): uWebSockets.js serving HTTP and WebSocket on one port.
// Not in this build: it stops the start with a ConfigError (exit code 2) that says why,
// naming what is missing when the native module itself does not load.

import { ConfigError } from '../../config.js';
import type { StartEngine } from '../engine.js';
import { loadUws } from './load-uws.js';

/** The uws engine's start, once its native module is loaded; rejects with ConfigError when it cannot serve here. */
export async function loadUwsEngine(): Promise<StartEngine> {
  const load = await loadUws();
  throw new ConfigError(
    load.ok
      ? '--engine uws is not available in this build; use --engine ws (the default)'
      : `--engine uws needs the native uWebSockets.js, and ${load.reason}; use --engine ws (the default)`,
  );
}
