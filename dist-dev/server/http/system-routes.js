// Operational routes (SPEC 2): queue backlog, liveness, readiness, metrics, processors.
import { JobcastError } from '../errors.js';
import { sendJson } from './respond.js';
export function systemRoutes(opts) {
    return [
        { pattern: /^\/queue$/, methods: { GET: ({ res }) => sendJson(res, 200, opts.service.stats()) } },
        { pattern: /^\/healthz$/, methods: { GET: ({ res }) => sendJson(res, 200, { ok: true }) } },
        {
            pattern: /^\/readyz$/,
            methods: {
                GET: async ({ res }) => {
                    // A load balancer stops sending new work here while running files finish.
                    opts.service.assertOpen();
                    const { storeProblem, spoolProblem } = await opts.readiness.check();
                    if (storeProblem !== null || spoolProblem !== null) {
                        const broken = [
                            storeProblem !== null && `the store does not answer (${storeProblem})`,
                            spoolProblem !== null && `the spool is not writable (${spoolProblem})`,
                        ].filter(Boolean);
                        throw new JobcastError('not_ready', `not ready: ${broken.join(' and ')}`);
                    }
                    sendJson(res, 200, { ok: true });
                },
            },
        },
        {
            pattern: /^\/metrics$/,
            methods: {
                GET: async ({ res }) => {
                    const text = await opts.metrics.registry.metrics();
                    res.writeHead(200, { 'content-type': opts.metrics.registry.contentType }).end(text);
                },
            },
        },
        {
            pattern: /^\/processors$/,
            methods: { GET: ({ res }) => sendJson(res, 200, { default: opts.processors.default, processors: [...opts.processors.names].sort() }) },
        },
    ];
}
//# sourceMappingURL=system-routes.js.map