// One outbound message, serialised once and shared by every connection it goes to
// (STYLE: never loop over clients re-serialising). Adapters read the form they need.
const FINAL_EVENTS = new Set(['job.completed', 'job.failed', 'job.cancelled']);
export class Frame {
    /** The JSON text of the message. */
    text;
    /** The job it concerns, if any. */
    job;
    /** The event's seq, or a snapshot's seq (SSE `id:`); null for other messages. */
    seq;
    /** SSE `event:` name: the event name, `snapshot`, `position`, or the message type. */
    name;
    /** True when nothing follows for this job (a final event, or a snapshot of a finished job). */
    isFinal;
    #buffer = null;
    #sse = null;
    constructor(message, job, seq, name, isFinal) {
        this.text = JSON.stringify(message);
        this.job = job;
        this.seq = seq;
        this.name = name;
        this.isFinal = isFinal;
    }
    static event(event) {
        return new Frame(event, event.job, event.seq, event.name, FINAL_EVENTS.has(event.name));
    }
    static snapshot(snapshot) {
        const isFinal = snapshot.status === 'completed' || snapshot.status === 'failed' || snapshot.status === 'cancelled';
        return new Frame({ type: 'snapshot', job: snapshot }, snapshot.id, snapshot.seq, 'snapshot', isFinal);
    }
    static position(job, position) {
        return new Frame({ type: 'position', job, position }, job, null, 'position', false);
    }
    /** Any other message (subscribed, unsubscribed, error, pong): sent to one connection only. */
    static control(message) {
        const job = 'job' in message && typeof message.job === 'string' ? message.job : null;
        return new Frame(message, job, null, message.type, false);
    }
    /** UTF-8 bytes of `text`, made once on first use. */
    get buffer() {
        return (this.#buffer ??= Buffer.from(this.text));
    }
    /** The SSE message (SPEC 3.4), made once on first use. */
    get sse() {
        return (this.#sse ??= `${this.seq === null ? '' : `id: ${this.seq}\n`}event: ${this.name}\ndata: ${this.text}\n\n`);
    }
}
//# sourceMappingURL=frame.js.map