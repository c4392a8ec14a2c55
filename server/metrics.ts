// Prometheus metrics (GET /metrics): jobs by status, queue depth, file durations,
// upload bytes and refused uploads, and the state of push connections (WebSocket, SSE)
// against their limits. Job events reach them through the feed.

import client from 'prom-client';
import { JOB_STATUSES, type JobEvent, type QueueStats, type Snapshot } from './protocol/types.js';
import type { Feed } from './feed/feed.js';
import type { Store } from './store/store.js';

/** What the hub reports about its push connections (Hub.stats()). */
export interface PushStats {
  connections: number;
  behind: number;
  paused: number;
  maxBufferedBytes: number;
  cachedSnapshotBytes: number;
}

export interface Metrics {
  readonly registry: client.Registry;
  /** Counts the bytes of an accepted upload. */
  uploadAccepted(bytes: number): void;
  /** Counts an upload refused with `code`. */
  uploadRefused(code: string): void;
  /** Counts a job this process took over from one that stopped renewing its claim. */
  takeover(): void;
}

/** Builds a registry of its own (tests run several servers in one process). */
export function createMetrics(store: Store, feed: Feed, queueStats: () => Promise<QueueStats>, pushStats?: () => PushStats): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'jobcast_' });

  new client.Gauge({
    name: 'jobcast_jobs',
    help: 'Jobs in the store by status (with a shared store: the whole cluster)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = await store.countByStatus();
      for (const status of JOB_STATUSES) this.set({ status }, counts[status]);
    },
  });
  new client.Gauge({
    name: 'jobcast_queue_depth',
    help: 'Jobs waiting in the queue (with a shared store: the one queue of the cluster)',
    registers: [registry],
    async collect() {
      this.set((await queueStats()).queued);
    },
  });
  new client.Gauge({
    name: 'jobcast_running_jobs',
    help: 'Jobs running in this process',
    registers: [registry],
    async collect() {
      this.set((await queueStats()).running);
    },
  });
  const fileDuration = new client.Histogram({
    name: 'jobcast_file_duration_seconds',
    help: 'Time a processor took per file',
    labelNames: ['processor', 'status'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800],
    registers: [registry],
  });
  const events = new client.Counter({
    name: 'jobcast_events_total',
    help: 'Job events this process heard, by name (with a store shared by processes: every event of the cluster, on each process)',
    labelNames: ['name'],
    registers: [registry],
  });
  const uploadBytes = new client.Counter({
    name: 'jobcast_upload_bytes_total',
    help: 'Bytes of file data in accepted uploads',
    registers: [registry],
  });
  const uploadsRefused = new client.Counter({
    name: 'jobcast_uploads_refused_total',
    help: 'Uploads refused, by error code',
    labelNames: ['code'],
    registers: [registry],
  });

  const takeovers = new client.Counter({
    name: 'jobcast_takeovers_total',
    help: 'Jobs this process took over from a process that stopped renewing its claim (shared store only)',
    registers: [registry],
  });
  const resyncs = new client.Counter({
    name: 'jobcast_feed_resyncs_total',
    help: 'Times this process found it had missed feed entries and sent its subscribers fresh snapshots (shared store only)',
    registers: [registry],
  });
  feed.on('resync', () => resyncs.inc());

  if (pushStats !== undefined) registerPushGauges(registry, pushStats);

  feed.on('event', (event: JobEvent, snapshot: Snapshot) => {
    events.inc({ name: event.name });
    if (event.name === 'file.completed' || event.name === 'file.failed') {
      const status = event.name === 'file.completed' ? 'done' : 'failed';
      fileDuration.observe({ processor: snapshot.processor, status }, event.data.durationMs / 1000);
    }
  });

  return {
    registry,
    uploadAccepted: (bytes) => uploadBytes.inc(bytes),
    uploadRefused: (code) => uploadsRefused.inc({ code }),
    takeover: () => takeovers.inc(),
  };
}

/** Push connections against their limits: a connection over its soft limit is behind; one the server stopped reading is paused. */
function registerPushGauges(registry: client.Registry, pushStats: () => PushStats): void {
  const gauges: Array<[name: string, help: string, key: keyof PushStats]> = [
    ['jobcast_push_connections', 'Open WebSocket and SSE connections', 'connections'],
    ['jobcast_push_connections_behind', 'Push connections whose send buffer is over the soft limit (closed with 1013 if it lasts)', 'behind'],
    ['jobcast_push_connections_paused', 'WebSocket connections the server has stopped reading until the client reads what it was sent', 'paused'],
    ['jobcast_push_max_buffered_bytes', 'The most bytes queued for one push connection', 'maxBufferedBytes'],
    ['jobcast_snapshot_cache_bytes', 'Bytes held by the serialised snapshots shared by all connections', 'cachedSnapshotBytes'],
  ];
  for (const [name, help, key] of gauges) {
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pushStats()[key]);
      },
    });
  }
}
