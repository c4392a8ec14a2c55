// Builds a whole jobcast server from a Config: the store with its queue and feed, the
// spool, the worker pool, the job parts (intake, reader, control, scheduler, positions,
// retention), the hub, the HTTP routes and the transports, served by the engine that
// --engine names. main.ts runs it as a process; tests run it in-process. This file only
// composes: each part is built from the ones it needs.

import { openBackend, type Backend } from './backend.js';
import { ConfigError, type Config } from './config.js';
import type { Engine, LingerLimits, StartEngine } from './engines/engine.js';
import { loadEngine } from './engines/select.js';
import { hostPolicy } from './http/door.js';
import { createTokenCheck } from './http/auth.js';
import { trustProxies } from './client-address.js';
import { jobRoutes } from './http/job-routes.js';
import { withOpenApiRoute } from './http/openapi/document.js';
import { createRouter } from './http/router.js';
import { assertSpoolApartFromStore } from './http/spool-placement.js';
import { sseRoutes } from './http/sse-route.js';
import { staticRoutes } from './http/static-routes.js';
import { ReadinessProbe } from './http/readiness.js';
import { systemRoutes } from './http/system-routes.js';
import { Hub, type HubOptions } from './hub/hub.js';
import { JobControl } from './jobs/control.js';
import { Intake } from './jobs/intake.js';
import { JobLog } from './jobs/job-log.js';
import { PositionNotifier } from './jobs/position-notifier.js';
import { JobReader } from './jobs/reader.js';
import { rebuildQueue } from './jobs/recovery.js';
import { RetentionSweeper } from './jobs/retention.js';
import { Scheduler } from './jobs/scheduler.js';
import { TakeoverWatcher } from './jobs/takeover.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics, type PushStats } from './metrics.js';
import { Heartbeat, heartbeatTimings, processIdentity } from './roster/heartbeat.js';
import { Spool } from './spool/spool.js';
import type { Store } from './store/store.js';
import { ProcessorPool } from './workers/pool.js';
import { loadProcessorRegistry, type ProcessorRegistry } from './workers/registry.js';
import { openEventStream } from './transport/sse.js';
import { webSocketService } from './transport/websocket.js';

export interface RunningServer {
  /** `http://host:port`, with the port actually bound (useful with --port 0). */
  readonly url: string;
  readonly port: number;
  readonly config: Config;
  /**
   * Saving and publishing job events, as the runner does: the one way in for synthetic
   * events (tests, benchmarks) that no processor produces.
   */
  readonly log: JobLog;
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
  /** An HTTP connection whose client takes no byte of a waiting answer for this long is closed (default 60 s). */
  httpStallTimeoutMs?: number;
  /** How long a WebSocket closed with 1013 has to read its close frame before it is cut (default 10 s). */
  slowCloseTimeoutMs?: number;
  /** How much of a refused request's body is read on before its connection closes (default 8 MiB or 2 s). */
  refusalLinger?: LingerLimits;
}

/** The parts that hold and move jobs; none of them knows HTTP. */
export interface JobParts {
  log: JobLog;
  /** Position messages for this process's subscribers; none in a worker, which has none. */
  positions: PositionNotifier | null;
  intake: Intake;
  reader: JobReader;
  control: JobControl;
  scheduler: Scheduler;
  /** Takes over the jobs of processes that stopped renewing their claims; only with a shared queue. */
  takeover: TakeoverWatcher | null;
  retention: RetentionSweeper | null;
  metrics: Metrics;
  /** This process in the roster (`GET /queue` lists it): stopped after the scheduler, which removes it. */
  heartbeat: Heartbeat;
}

/** Starts a server; rejects with ConfigError for settings that cannot work (a missing --processor-dir, say). */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // First: an engine that cannot serve here stops the start before anything is opened.
  const startEngine = await loadEngine(config.engine);
  const registry = await loadProcessorRegistry(config.processorDir);
  if (!registry.has(config.processor)) {
    throw new ConfigError(`--processor '${config.processor}' is not registered; known: ${registry.names().join(', ')}`);
  }
  // Before anything is opened or swept: a spool holding the database would have it swept away.
  await assertSpoolApartFromStore(config.spoolDir, config.store);
  const opened = await openBackend(config.store, { logSize: config.logSize, redisPrefix: config.redisPrefix, logger });
  const backend: Backend = options.wrapStore === undefined ? opened : { ...opened, store: options.wrapStore(opened.store) };
  const spool = await openSpool(config, backend, logger);
  const pool = new ProcessorPool({ workers: config.workers, progressIntervalMs: config.progressIntervalMs, registry, logger });
  // The hub is built below; its gauges are read at scrape time.
  const jobs = await startJobs(config, { backend, spool, pool, registry, logger, pushStats: () => hub.stats() }, 'serve');
  const positions = jobs.positions!;
  const hub = new Hub({
    feed: backend.feed,
    positions,
    logger,
    getSnapshot: (id) => jobs.reader.get(id),
    eventsSince: (id, since) => backend.store.eventsSince(id, since),
    dashboardIds: () => jobs.reader.dashboardIds(),
    withPosition: (snapshot) => jobs.reader.withKnownPosition(snapshot),
    maxSubscriptions: config.maxSubscriptions,
    maxMessagesPerSecond: config.maxMessagesPerSecond,
    ...options.hubLimits,
  });
  const engine = await startHttp(config, { backend, spool, registry, jobs, hub, logger, options, startEngine });
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${engine.port}`;
  logger.info(
    { url, engine: engine.name, store: config.store.replace(/\/\/[^@]*@/, '//***@'), workers: config.workers, concurrency: config.concurrency },
    'jobcast listening',
  );

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info({ graceMs: config.shutdownGraceMs }, 'shutting down');
      // The server goes on listening through the grace: uploads and new WebSocket
      // connections get 503 shutting_down, /readyz 503, and reads are still served, so
      // pollers and subscribers see the last files finish and the requeues.
      jobs.intake.close();
      await jobs.scheduler.close(config.shutdownGraceMs);
      await jobs.heartbeat.stop();
      engine.stopListening();
      jobs.retention?.stop();
      jobs.takeover?.stop();
      positions.close();
      // After the grace period, so subscribers see the last files finish and the requeues;
      // before the engine closes what is left, so that WebSockets see 1001.
      hub.close();
      await engine.close();
      await pool.destroy();
      await backend.close();
      logger.info('stopped');
    })());

  return { url, port: engine.port, config, log: jobs.log, hub, logger, close };
}

/**
 * Opens the spool and removes the files of uploads that never became jobs (a crash
 * mid-upload). With a store shared by processes, one process sweeps at a time and spares
 * folders that changed lately: another process's upload may be streaming into one.
 */
export async function openSpool(config: Config, backend: Backend, logger: Logger): Promise<Spool> {
  const spool = new Spool(config.spoolDir);
  await spool.init();
  const isKnown = async (id: string): Promise<boolean> => (await backend.store.getSnapshot(id)) !== null;
  const minIdleMs = backend.isLocal ? 0 : 2 * config.uploadIdleTimeoutMs;
  const removed = await backend.exclusive('spool-sweep', 10 * 60_000, () => spool.sweepOrphans(isKnown, { minIdleMs }));
  if (removed !== null && removed > 0) logger.info({ removed }, 'removed spool folders of jobs the store does not hold');
  return spool;
}

/**
 * Builds the job parts over the backend, recovers the queue if it lives here, and starts
 * scheduling. A `worker` process (SPEC 6) has no subscribers, so no position messages.
 */
export async function startJobs(
  config: Config,
  deps: { backend: Backend; spool: Spool; pool: ProcessorPool; registry: ProcessorRegistry; logger: Logger; pushStats?: () => PushStats },
  role: 'serve' | 'worker',
): Promise<JobParts> {
  const { backend, spool, pool, registry, logger } = deps;
  const { store, queue, feed } = backend;
  const identity = processIdentity(role === 'serve' ? 'server' : 'worker');
  const startedAt = Date.now();
  const log = new JobLog(store, feed);
  const positions = role === 'serve' ? new PositionNotifier(queue, feed, config.progressIntervalMs) : null;
  const intake = new Intake({ log, queue, files: spool, maxQueuedJobs: config.maxQueuedJobs });
  const reader = new JobReader({ store, queue, feed, knownPosition: (id) => positions?.known(id) ?? null });
  const control = new JobControl({ log, store, queue, feed, files: spool, reader });
  const scheduler = new Scheduler({
    log,
    store,
    queue,
    feed,
    pool,
    files: spool,
    isProcessor: (name) => registry.has(name),
    concurrency: config.concurrency,
    fileTimeoutMs: config.fileTimeoutMs,
    leaseMs: config.leaseMs,
    logger,
    // The queue's claims and the roster name the process alike.
    owner: identity.id,
  });
  const heartbeat = new Heartbeat({
    roster: backend.roster,
    describe: () => ({
      ...identity,
      startedAt,
      jobs: scheduler.runningJobIds(),
      workersBusy: pool.stats().busy,
      workers: config.workers,
      concurrency: config.concurrency,
    }),
    ...heartbeatTimings(config.leaseMs),
    logger,
  });
  const metrics = createMetrics(store, feed, () => scheduler.stats(), deps.pushStats);
  if (backend.isLocal) await rebuildQueue({ store, queue, log, logger });
  heartbeat.start();
  scheduler.start();
  // A queue kept in this process has no other process to take over from.
  const takeover = backend.isLocal ? null : new TakeoverWatcher({ queue, log, logger, leaseMs: config.leaseMs, onTakeover: () => metrics.takeover() });
  takeover?.start();
  const retention =
    config.retentionMs === null
      ? null
      : new RetentionSweeper(store, (id) => control.forget(id), config.retentionMs, logger, (sweep) => backend.exclusive('retention', 10 * 60_000, sweep));
  retention?.start();
  return { log, positions, intake, reader, control, scheduler, takeover, retention, metrics, heartbeat };
}

/** The routes and the WebSocket side, served by the engine. */
async function startHttp(
  config: Config,
  deps: {
    backend: Backend;
    spool: Spool;
    registry: ProcessorRegistry;
    jobs: JobParts;
    hub: Hub;
    logger: Logger;
    /** The test and benchmark knobs of startServer. */
    options: StartOptions;
    startEngine: StartEngine;
  },
): Promise<Engine> {
  const { backend, spool, registry, jobs, hub, logger, options } = deps;
  const { intake, reader, control, scheduler, metrics } = jobs;
  const token = createTokenCheck(config.token);
  const readiness = new ReadinessProbe({ store: backend.store, spool, logger });
  const sse = { hub, heartbeatMs: config.heartbeatMs };
  const routes = withOpenApiRoute([
    ...sseRoutes({ hub, openStream: (stream, job, since) => openEventStream(sse, stream, job, since) }),
    ...jobRoutes({
      intake,
      reader,
      control,
      spool,
      metrics,
      token,
      readiness,
      isProcessor: (name) => registry.has(name),
      outputOf: (name) => registry.outputOf(name),
      defaultProcessor: config.processor,
      limits: { maxFileSize: config.maxFileSize, maxFiles: config.maxFiles, maxUploadSize: config.maxUploadSize },
      idleTimeoutMs: config.uploadIdleTimeoutMs,
      minBytesPerSecond: config.uploadMinRate,
      maxConcurrentUploads: config.maxConcurrentUploads,
    }),
    ...systemRoutes({
      intake,
      scheduler,
      readiness,
      metrics,
      processors: { names: registry.names(), default: config.processor },
      processes: { list: () => backend.roster.list(), token },
    }),
    ...staticRoutes({ needsToken: token.hasToken }),
  ]);
  const hosts = hostPolicy(config.host, config.allowedHosts);
  const http = createRouter(routes, logger, { hosts, quietPaths: new Set(['/healthz', '/metrics']) });
  const webSocket = webSocketService({
    hub,
    hosts,
    assertOpen: () => intake.assertOpen(),
    allowedOrigins: config.allowedOrigins,
    hasToken: token.hasToken,
    isAuthorized: token.isAuthorized,
  });
  return deps.startEngine(
    { http, webSocket, logger },
    {
      host: config.host,
      port: config.port,
      maxConnections: config.maxConnections,
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      clientAddresses: trustProxies(config.trustProxy),
      maxMessageSize: config.maxMessageSize,
      heartbeatMs: config.heartbeatMs,
      slowCloseTimeoutMs: options.slowCloseTimeoutMs,
      httpStallTimeoutMs: options.httpStallTimeoutMs,
      refusalLinger: options.refusalLinger,
    },
  );
}
