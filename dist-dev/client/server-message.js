// Reading what the server sends (SPEC 3.3). A frame that is not one of the known
// messages with the fields the SDK relies on is dropped here, so the rest of the SDK
// only ever sees well-formed ServerMessages; the client never throws over a bad frame.
/** Parses one frame's data; null for anything malformed or unknown (binary frames included). */
export function parseServerMessage(data) {
    if (typeof data !== 'string')
        return null;
    let value;
    try {
        value = JSON.parse(data);
    }
    catch {
        return null;
    }
    if (!isObject(value))
        return null;
    return isWellFormed(value) ? value : null;
}
function isWellFormed(m) {
    switch (m.type) {
        case 'snapshot':
            return isSnapshotLike(m.job);
        case 'event':
            return isJobId(m.job) && isSeq(m.seq) && m.seq >= 1 && typeof m.ts === 'number' && typeof m.name === 'string' && isObject(m.data);
        case 'position':
            return isJobId(m.job) && isSeq(m.position);
        case 'subscribed':
            return typeof m.job === 'string' && (m.mode === 'snapshot' || m.mode === 'resume') && (m.seq === undefined || isSeq(m.seq));
        case 'unsubscribed':
            return typeof m.job === 'string';
        case 'error':
            return typeof m.code === 'string' && typeof m.message === 'string' && (m.job === undefined || typeof m.job === 'string');
        case 'pong':
            return true;
        default:
            return false;
    }
}
/** The fields the SDK reads of a snapshot before handing it on whole. */
function isSnapshotLike(value) {
    return (isObject(value) &&
        isJobId(value.id) &&
        isSeq(value.seq) &&
        typeof value.status === 'string' &&
        Array.isArray(value.files) &&
        isObject(value.progress));
}
function isObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function isJobId(value) {
    return typeof value === 'string' && value.length > 0 && value !== '*';
}
function isSeq(value) {
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
//# sourceMappingURL=server-message.js.map