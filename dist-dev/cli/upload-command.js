// `jobcast upload FILES... [--server URL] [--processor NAME] [--label TEXT] [--token T]`:
// uploads with a progress bar, then follows the job; exit 0 when it completed, 1 otherwise.
import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import { followJob } from './follow-job.js';
import { multipartBody } from './multipart-body.js';
import { bar, quarter, TerminalView } from './terminal-bars.js';
export async function uploadCommand(args) {
    const fields = {};
    if (args.processor !== undefined)
        fields.processor = args.processor;
    if (args.label !== undefined)
        fields.label = args.label;
    const body = await multipartBody(fields, args.files);
    const view = new TerminalView();
    const created = await post(args, body, view);
    view.done();
    const final = await followJob(args.server, created.id, args.token, view);
    return final.status === 'completed' ? 0 : 1;
}
function post(args, body, view) {
    const url = new URL('/jobs', args.server);
    const send = url.protocol === 'https:' ? requestTls : request;
    const headers = { 'content-type': body.contentType, 'content-length': body.length };
    if (args.token !== undefined)
        headers.authorization = `Bearer ${args.token}`;
    return new Promise((resolve, reject) => {
        const startedAt = Date.now();
        let sent = 0;
        const total = Math.max(1, body.length);
        const draw = (fraction) => {
            const seconds = (Date.now() - startedAt) / 1000;
            const rate = seconds > 0 ? `${(sent / seconds / 1e6).toFixed(1)} MB/s` : '';
            view.draw([{ key: 'upload', text: `upload ${bar(fraction)}  ${(sent / 1e6).toFixed(1)} MB  ${rate}`, milestone: String(quarter(fraction)) }]);
        };
        let answered = false;
        const req = send(url, { method: 'POST', headers }, (res) => {
            answered = true;
            // The answer means the server has the whole body.
            draw(1);
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => (text += chunk));
            res.on('end', () => {
                const parsed = JSON.parse(text || 'null');
                if (res.statusCode === 202 || res.statusCode === 200)
                    return resolve(parsed);
                reject(new Error(`upload refused (${res.statusCode} ${parsed?.error?.code ?? ''}): ${parsed?.error?.message ?? text}`));
            });
        });
        req.on('error', (err) => {
            // Once the answer is here, a failed write of the rest of the body changes nothing.
            if (answered)
                return;
            const cutOff = err.code === 'EPIPE' || err.code === 'ECONNRESET';
            reject(cutOff ? new Error(`the server closed the connection before answering (${err.code}); is the upload within its limits?`) : err);
        });
        body
            .stream((n) => {
            sent += n;
            draw(Math.min(0.99, sent / total));
        })
            .pipe(req);
    });
}
//# sourceMappingURL=upload-command.js.map