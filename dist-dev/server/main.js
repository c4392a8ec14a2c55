#!/usr/bin/env node
// The jobcast process: read the configuration, start the server, stop gracefully on SIGTERM/SIGINT.
import { startServer } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
/** Exit code for settings that cannot work (SPEC 5). */
const EXIT_CONFIG = 2;
async function main() {
    let parsed;
    try {
        parsed = loadConfig(process.argv.slice(2));
    }
    catch (err) {
        return exitWith(err);
    }
    if (parsed.command === 'worker') {
        console.error('jobcast: `worker` processes jobs of a shared store, which needs --store redis://; this build has the sqlite and memory stores only');
        process.exit(EXIT_CONFIG);
    }
    const logger = createLogger(parsed.config.logLevel);
    let server;
    try {
        server = await startServer(parsed.config, { logger });
    }
    catch (err) {
        return exitWith(err);
    }
    const running = server;
    const stop = (signal) => {
        logger.info({ signal }, 'signal received');
        running.close().then(() => process.exit(0), (err) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
}
function exitWith(err) {
    if (err instanceof ConfigError) {
        console.error(`jobcast: ${err.message}`);
        process.exit(EXIT_CONFIG);
    }
    console.error('jobcast: could not start:', err);
    process.exit(1);
}
void main();
//# sourceMappingURL=main.js.map