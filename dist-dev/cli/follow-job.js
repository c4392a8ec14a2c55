// Follows one job live through the client SDK and draws it in the terminal until it
// ends. Resolves with the final snapshot.
import WebSocket from 'ws';
import { createClient } from '../client/jobcast-client.js';
import { bar, quarter } from './terminal-bars.js';
/** Files drawn at most; a bigger job shows the running file and a count of the others. */
const MAX_FILE_LINES = 20;
export function followJob(server, jobId, token, view) {
    const client = createClient({ url: server, token, WebSocket: WebSocket });
    let connection = 'connecting';
    client.onConnectionState((state) => (connection = state));
    const rates = new Map();
    return new Promise((resolve, reject) => {
        client.watch(jobId, (snapshot, info) => {
            if (snapshot === null) {
                client.close();
                return reject(new Error(info.error?.message ?? `job ${jobId} not found`));
            }
            const event = info.event;
            if (event?.name === 'file.progress')
                rates.set(event.data.file, { rate: event.data.rate, etaMs: event.data.etaMs });
            view.draw(lines(snapshot, rates, connection));
            if (snapshot.status === 'completed' || snapshot.status === 'failed' || snapshot.status === 'cancelled') {
                view.done();
                client.close();
                resolve(snapshot);
            }
        });
    });
}
function lines(s, rates, connection) {
    const position = s.status === 'queued' && s.queuePosition !== null ? ` #${s.queuePosition} in queue` : '';
    const head = `job ${s.id} ${s.status}${position}${connection === 'live' ? '' : ` (${connection})`}`;
    const out = [
        { key: 'job', text: head, milestone: head },
        {
            key: 'all',
            text: `${bar(s.progress.fraction)}  ${s.progress.filesDone}/${s.progress.filesTotal} files`,
            milestone: `${quarter(s.progress.fraction)} ${s.progress.filesDone}`,
        },
    ];
    const files = s.files.length <= MAX_FILE_LINES ? s.files : s.files.filter((f) => f.status === 'running' || f.status === 'failed').slice(0, MAX_FILE_LINES);
    for (const f of files) {
        const live = rates.get(f.index);
        const detail = f.status === 'done' ? `${f.durationMs} ms`
            : f.status === 'failed' ? `${f.error?.code}: ${f.error?.message}`
                : f.status === 'running' && live?.etaMs != null ? `ETA ${Math.ceil(live.etaMs / 1000)} s`
                    : f.status;
        out.push({ key: `file-${f.index}`, text: `  ${bar(f.fraction, 20)}  ${f.name}  ${detail}`, milestone: `${f.status} ${quarter(f.fraction)}` });
    }
    const more = `  … ${s.files.length - files.length} more files`;
    if (files.length < s.files.length)
        out.push({ key: 'more', text: more, milestone: more });
    return out;
}
//# sourceMappingURL=follow-job.js.map