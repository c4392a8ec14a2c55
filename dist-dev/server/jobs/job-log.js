// Appending to a job's log and telling the bus, as one step: every change to a job
// goes through here, so every listener sees exactly the events the store holds, in order.
export class JobLog {
    store;
    bus;
    constructor(store, bus) {
        this.store = store;
        this.bus = bus;
    }
    /** Creates the job (its `job.queued` event, seq 1) and publishes it. */
    async create(id, queued) {
        const { event, snapshot } = await this.store.createJob(id, { ...queued, ts: queued.ts ?? Date.now() });
        this.bus.emit('event', event, snapshot);
        return snapshot;
    }
    /** Appends the event with the job's next seq and publishes it; resolves with the snapshot after it. */
    async append(id, event) {
        const appended = await this.store.append(id, { ...event, ts: event.ts ?? Date.now() });
        this.bus.emit('event', appended.event, appended.snapshot);
        return appended.snapshot;
    }
}
//# sourceMappingURL=job-log.js.map