// `jobcast worker` (SPEC 6): a process that only processes jobs of a shared store. It is
// built from the same parts as the server (app.ts) less everything public: no uploads,
// no job routes, no WebSocket or SSE, no position messages. Operators get `/healthz`,
// `/readyz` and `/metrics` on its --port.

import { openSpool, startJobs } from './app.js';
import { openBackend } from './backend.js';
import { ConfigError, type Config } from './config.js';
import { loadEngine } from './engines/select.js';
import { hostPolicy } from './http/door.js';
import { trustProxies } from './client-address.js';
import { ReadinessProbe } from './http/readiness.js';
import { createRouter } from './http/router.js';
import { systemRoutes } from './http/system-routes.js';
import { createLogger, type Logger } from './logger.js';
import { ProcessorPool } from './workers/pool.js';
import { loadProcessorRegistry } from './workers/registry.js';

/** The operator routes a worker answers; every other path is 404. */
const OPERATOR_PATHS = ['/healthz', '/readyz', '/metrics'];

export interface RunningWorker {
  /** `http://host:port` of the operator routes. */
  readonly url: string;
  readonly port: number;
  readonly logger: Logger;
  /** Graceful stop: running files finish within --shutdown-grace, the rest go back to the queue. */
  close(): Promise<void>;
}

/** Starts a worker; rejects with ConfigError for a store kept by one process (it would have nothing to share). */
export async function startWorker(config: Config, options: { logger?: Logger } = {}): Promise<RunningWorker> {
  const logger = options.logger ?? createLogger(config.logLevel);
  if (!/^rediss?:\/\//.test(config.store)) {
    throw new ConfigError(`a worker processes the jobs of a store shared by processes: --store must be redis://host:port, got '${config.store}'`);
  }
  const startEngine = await loadEngine(config.engine);
  const registry = await loadProcessorRegistry(config.processorDir);
  if (!registry.has(config.processor)) {
    throw new ConfigError(`--processor '${config.processor}' is not registered; known: ${registry.names().join(', ')}`);
  }
  const backend = await openBackend(config.store, { logSize: config.logSize, redisPrefix: config.redisPrefix, logger });
  const spool = await openSpool(config, backend, logger);
  const pool = new ProcessorPool({ workers: config.workers, progressIntervalMs: config.progressIntervalMs, registry, logger });
  const jobs = await startJobs(config, { backend, spool, pool, registry, logger }, 'worker');
  const readiness = new ReadinessProbe({ store: backend.store, spool, logger });
  const routes = systemRoutes({
    intake: jobs.intake,
    scheduler: jobs.scheduler,
    readiness,
    metrics: jobs.metrics,
    processors: { names: registry.names(), default: config.processor },
  }).filter((route) => OPERATOR_PATHS.some((path) => route.pattern.test(path)));
  // The same Host check as a server's (--host, --allowed-hosts: DNS rebinding); no WebSocket.
  const http = createRouter(routes, logger, { hosts: hostPolicy(config.host, config.allowedHosts), quietPaths: new Set(OPERATOR_PATHS) });
  const engine = await startEngine(
    { http, webSocket: null, logger },
    {
      host: config.host,
      port: config.port,
      maxConnections: config.maxConnections,
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      clientAddresses: trustProxies(config.trustProxy),
      maxMessageSize: config.maxMessageSize,
      heartbeatMs: config.heartbeatMs,
    },
  );
  const { port } = engine;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, role: 'worker', engine: engine.name, workers: config.workers, concurrency: config.concurrency }, 'jobcast listening');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info({ graceMs: config.shutdownGraceMs }, 'shutting down');
      // /readyz answers 503 shutting_down from now on.
      jobs.intake.close();
      await jobs.scheduler.close(config.shutdownGraceMs);
      await jobs.heartbeat.stop();
      jobs.retention?.stop();
      jobs.takeover?.stop();
      engine.stopListening();
      await engine.close();
      await pool.destroy();
      await backend.close();
      logger.info('stopped');
    })());
  return { url, port, logger, close };
}
