// Which engine serves (--engine). Chosen once, first thing at start: an engine that
// cannot serve here stops the server (exit code 2) before anything is opened.

import type { EngineName, StartEngine } from './engine.js';
import { startNodeEngine } from './node/node-engine.js';
import { loadUwsEngine } from './uws/uws-engine.js';

/** The start of engine `name`; rejects with ConfigError when it cannot serve here. */
export async function loadEngine(name: EngineName): Promise<StartEngine> {
  switch (name) {
    case 'ws':
      return startNodeEngine;
    case 'uws':
      return loadUwsEngine();
  }
}
