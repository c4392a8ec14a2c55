// In-process fan-in point for everything that changes jobs: the HTTP long-poll
// (?wait), metrics and (next) the WebSocket hub listen here. A multi-process store
// feeds the same bus from its own pub/sub, so listeners never care where events come from.
import { EventEmitter } from 'node:events';
/** A typed EventEmitter; listeners must not throw (they run inside the append path). */
export class EventBus extends EventEmitter {
    constructor() {
        super();
        // Every ?wait request and every hub shard listens; the count is bounded by their own limits.
        this.setMaxListeners(0);
    }
}
//# sourceMappingURL=event-bus.js.map