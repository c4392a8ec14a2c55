// --retention: finished jobs and their files are deleted once they are older than this.
/** How many jobs one sweep deletes at most, so a large backlog never stalls the event loop. */
const SWEEP_BATCH = 200;
export class RetentionSweeper {
    store;
    forget;
    retentionMs;
    logger;
    timer = null;
    sweeping = null;
    constructor(store, forget, retentionMs, logger) {
        this.store = store;
        this.forget = forget;
        this.retentionMs = retentionMs;
        this.logger = logger;
    }
    /** Sweeps now, then every tenth of the retention period (at most once a minute). */
    start() {
        const everyMs = Math.min(60_000, Math.max(1000, Math.floor(this.retentionMs / 10)));
        void this.sweep();
        this.timer = setInterval(() => void this.sweep(), everyMs);
        this.timer.unref();
    }
    /** Deletes finished jobs past retention; resolves with how many. Concurrent calls share one sweep. */
    sweep() {
        this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = null));
        return this.sweeping;
    }
    async sweepOnce() {
        let deleted = 0;
        try {
            for (;;) {
                const ids = await this.store.finishedBefore(Date.now() - this.retentionMs, SWEEP_BATCH);
                for (const id of ids)
                    await this.forget(id);
                deleted += ids.length;
                if (ids.length < SWEEP_BATCH)
                    break;
            }
            if (deleted > 0)
                this.logger.info({ deleted }, 'deleted finished jobs past --retention');
        }
        catch (err) {
            this.logger.warn({ err }, 'retention sweep failed; it runs again later');
        }
        return deleted;
    }
    /** Stops the timer; safe to call twice. */
    stop() {
        if (this.timer !== null)
            clearInterval(this.timer);
        this.timer = null;
    }
}
//# sourceMappingURL=retention.js.map