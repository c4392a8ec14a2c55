#!/usr/bin/env node
// The jobcast process: read the configuration, start the server (or a worker), stop gracefully on SIGTERM/SIGINT.

import { startServer } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startWorker } from './worker-process.js';

/** Exit code for settings that cannot work (SPEC 5). */
const EXIT_CONFIG = 2;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = loadConfig(process.argv.slice(2));
  } catch (err) {
    return exitWith(err);
  }
  const logger = createLogger(parsed.config.logLevel);
  let server;
  try {
    // `worker`: processing only, for a store shared by processes (SPEC 6).
    server = parsed.command === 'worker' ? await startWorker(parsed.config, { logger }) : await startServer(parsed.config, { logger });
  } catch (err) {
    return exitWith(err);
  }
  const running = server;
  const stop = (signal: string): void => {
    logger.info({ signal }, 'signal received');
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

function exitWith(err: unknown): void {
  if (err instanceof ConfigError) {
    console.error(`jobcast: ${err.message}`);
    process.exit(EXIT_CONFIG);
  }
  console.error('jobcast: could not start:', err);
  process.exit(1);
}

void main();
