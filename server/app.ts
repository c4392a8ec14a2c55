// Builds a whole jobcast server from a Config: store, spool, worker pool, job
// service, HTTP routes. main.ts runs it as a process; tests run it in-process.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConfigError, type Config } from './config.js';
import type { JobcastError } from './errors.js';
import { createTokenCheck } from './http/auth.js';
import { answerClientErrors } from './http/client-errors.js';
import { ConnectionLimits } from './http/connection-limits.js';
import { jobRoutes } from './http/job-routes.js';
import { rawErrorResponse } from './http/respond.js';
import { createRouter } from './http/router.js';
import { Spool } from './http/spool.js';
import { sseRoutes } from './http/sse-route.js';
import { staticRoutes } from './http/static-routes.js';
import { ReadinessProbe } from './http/readiness.js';
import { systemRoutes } from './http/system-routes.js';
import { Hub, type HubOptions } from './hub/hub.js';
import { EventBus } from './jobs/event-bus.js';
import { JobService } from './jobs/job-service.js';
import { RetentionSweeper } from './jobs/retention.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import { ProcessorPool } from './workers/pool.js';
import { loadProcessorRegistry } from './workers/registry.js';
import { attachWsTransport } from './transport/ws-transport.js';

export interface RunningServer {
  /** `http://host:port`, with the port actually bound (useful with --port 0). */
  readonly url: string;
  readonly port: number;
  readonly config: Config;
  readonly service: JobService;
  readonly store: Store;
  readonly hub: Hub;
  readonly logger: Logger;
  /** Graceful stop (SPEC 7): refuse uploads, let running files finish within --shutdown-grace, requeue the rest. */
  close(): Promise<void>;
}

/** Knobs that are not settings: for tests and benchmarks. */
export interface StartOptions {
  logger?: Logger;
  /** Slow-reader limits of the hub (defaults: 1 MiB soft, 8 MiB hard, 30 s behind, 32 MiB of cached snapshots). */
  hubLimits?: Pick<HubOptions, 'softLimitBytes' | 'hardLimitBytes' | 'maxBehindMs' | 'snapshotCacheBytes'>;
  /** Wraps the store once it is open (tests count its reads); the server then uses only the wrapper. */
  wrapStore?(store: Store): Store;
}

/** Starts a server; rejects with ConfigError for settings that cannot work (a missing --processor-dir, say). */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  if (config.engine === 'uws') {
    throw new ConfigError('--engine uws is not available in this build; use --engine ws (the default)');
  }
  const registry = await loadProcessorRegistry(config.processorDir);
  if (!registry.has(config.processor)) {
    throw new ConfigError(`--processor '${config.processor}' is not registered; known: ${registry.names().join(', ')}`);
  }
  const opened = await openStore(config.store, { logSize: config.logSize });
  const store = options.wrapStore?.(opened) ?? opened;
  const spool = new Spool(config.spoolDir);
  await spool.init();
  // Files of uploads that never became jobs (a crash mid-upload) belong to nobody.
  const removed = await spool.sweepOrphans(async (id) => (await store.getSnapshot(id)) !== null);
  if (removed > 0) logger.info({ removed }, 'removed spool entries that belong to no job');

  const pool = new ProcessorPool({ workers: config.workers, progressIntervalMs: config.progressIntervalMs, registry, logger });
  const bus = new EventBus();
  const isProcessor = (name: string) => registry.has(name);
  const service = new JobService({
    store,
    bus,
    files: spool,
    pool,
    isProcessor,
    concurrency: config.concurrency,
    maxQueuedJobs: config.maxQueuedJobs,
    progressIntervalMs: config.progressIntervalMs,
    fileTimeoutMs: config.fileTimeoutMs,
    logger,
  });
  // The hub is built below; its gauges are read at scrape time.
  const metrics = createMetrics(store, bus, () => service.stats(), () => hub.stats());
  await service.start();
  const retention = config.retentionMs === null ? null : new RetentionSweeper(store, (id) => service.forget(id), config.retentionMs, logger);
  retention?.start();

  const token = createTokenCheck(config.token);
  const readiness = new ReadinessProbe({ store, spool, logger });
  const hub = new Hub({
    bus,
    logger,
    getSnapshot: (id) => service.get(id),
    eventsSince: (id, since) => store.eventsSince(id, since),
    dashboardIds: () => dashboardIds(store),
    withPosition: (snapshot) => service.withPosition(snapshot),
    maxSubscriptions: config.maxSubscriptions,
    maxMessagesPerSecond: config.maxMessagesPerSecond,
    ...options.hubLimits,
  });
  const routes = [
    ...sseRoutes({ hub, heartbeatMs: config.heartbeatMs }),
    ...jobRoutes({
      service,
      store,
      spool,
      metrics,
      token,
      readiness,
      isProcessor,
      defaultProcessor: config.processor,
      limits: { maxFileSize: config.maxFileSize, maxFiles: config.maxFiles, maxUploadSize: config.maxUploadSize },
      idleTimeoutMs: config.uploadIdleTimeoutMs,
      maxConcurrentUploads: config.maxConcurrentUploads,
    }),
    ...systemRoutes({ service, readiness, metrics, processors: { names: registry.names(), default: config.processor } }),
    ...staticRoutes(),
  ];
  const connectionLimits = new ConnectionLimits({
    maxConnections: config.maxConnections,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    logger,
  });
  const router = createRouter(routes, logger, new Set(['/healthz', '/metrics']));
  const server = createServer({ requestTimeout: 0, headersTimeout: 60_000 }, connectionLimits.guard(router));
  answerClientErrors(server, logger);
  connectionLimits.attach(server);
  const transport = attachWsTransport(server, {
    hub,
    logger,
    maxMessageSize: config.maxMessageSize,
    heartbeatMs: config.heartbeatMs,
    allowedOrigins: config.allowedOrigins,
    hasToken: token.hasToken,
    isAuthorized: token.isAuthorized,
    refuseUpgrade: (socket) => connectionLimits.refuseUpgrade(socket) || refuseWhileShuttingDown(socket, service),
  });
  await listen(server, config.port, config.host);
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, store: config.store.replace(/\/\/[^@]*@/, '//***@'), workers: config.workers, concurrency: config.concurrency }, 'jobcast listening');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info({ graceMs: config.shutdownGraceMs }, 'shutting down');
      // The server goes on listening through the grace: uploads and new WebSocket
      // connections get 503 shutting_down, /readyz 503, and reads are still served, so
      // pollers and subscribers see the last files finish and the requeues.
      await service.close(config.shutdownGraceMs);
      server.close();
      retention?.stop();
      // After the grace period, so subscribers see the last files finish and the requeues.
      hub.close();
      transport.close();
      server.closeAllConnections();
      await pool.destroy();
      await store.close();
      logger.info('stopped');
    })());

  return { url, port, config, service, store, hub, logger, close };
}

/** For 'upgrade' during shutdown: answers 503 shutting_down before any upgrade and returns true. */
function refuseWhileShuttingDown(socket: Duplex, service: JobService): boolean {
  try {
    service.assertOpen();
    return false;
  } catch (err) {
    socket.end(rawErrorResponse(err as JobcastError));
    return true;
  }
}

/** Most finished jobs a new `*` subscriber gets snapshots of (SPEC 3.3). */
const DASHBOARD_RECENT = 100;

/**
 * Every queued and running job, then the most recently finished ones: ids only. The hub
 * reads their snapshots one at a time, as fast as the subscriber takes them.
 */
async function dashboardIds(store: Store): Promise<string[]> {
  const active = await store.idsByStatus(['queued', 'running']);
  return [...active, ...(await store.recentlyFinished(DASHBOARD_RECENT))];
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
