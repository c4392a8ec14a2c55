// Prometheus metrics (GET /metrics): jobs by status, queue depth, file durations,
// upload bytes and refused uploads. Job events feed them through the bus.
import client from 'prom-client';
import { JOB_STATUSES } from './protocol/types.js';
/** Builds a registry of its own (tests run several servers in one process). */
export function createMetrics(store, bus, queueStats) {
    const registry = new client.Registry();
    client.collectDefaultMetrics({ register: registry, prefix: 'jobcast_' });
    new client.Gauge({
        name: 'jobcast_jobs',
        help: 'Jobs in the store by status',
        labelNames: ['status'],
        registers: [registry],
        async collect() {
            const counts = await store.countByStatus();
            for (const status of JOB_STATUSES)
                this.set({ status }, counts[status]);
        },
    });
    new client.Gauge({
        name: 'jobcast_queue_depth',
        help: 'Jobs waiting in the queue',
        registers: [registry],
        collect() {
            this.set(queueStats().queued);
        },
    });
    new client.Gauge({
        name: 'jobcast_running_jobs',
        help: 'Jobs running in this process',
        registers: [registry],
        collect() {
            this.set(queueStats().running);
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
        help: 'Job events appended, by name',
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
    bus.on('event', (event, snapshot) => {
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
    };
}
//# sourceMappingURL=metrics.js.map