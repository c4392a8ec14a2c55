// Operational routes (SPEC 2): queue backlog, liveness, readiness, metrics, processors.

import { JobcastError } from '../errors.js';
import type { Intake } from '../jobs/intake.js';
import type { Scheduler } from '../jobs/scheduler.js';
import type { Metrics } from '../metrics.js';
import type { ProcessInfo } from '../protocol/types.js';
import type { TokenCheck } from './auth.js';
import type { ReadinessProbe } from './readiness.js';
import { bytesReply, jsonReply } from './reply.js';
import type { Route } from './router.js';

export interface SystemRoutesOptions {
  intake: Intake;
  scheduler: Scheduler;
  readiness: ReadinessProbe;
  metrics: Metrics;
  /** Registered processor names and the default, for `GET /processors`. */
  processors: { names: readonly string[]; default: string };
  /**
   * The processes sharing the queue, for `GET /queue`; listed only to requests that carry
   * the --token when there is one (they name hosts and the ids of running jobs).
   */
  processes?: { list(): Promise<ProcessInfo[]>; token: TokenCheck };
}

export function systemRoutes(opts: SystemRoutesOptions): Route[] {
  return [
    {
      pattern: /^\/queue$/,
      methods: {
        GET: async (request) => {
          const { processes } = opts;
          if (processes === undefined || !processes.token.isAuthorized(request)) return jsonReply(200, await opts.scheduler.stats());
          const [stats, list] = await Promise.all([opts.scheduler.stats(), processes.list()]);
          return jsonReply(200, { ...stats, processes: list });
        },
      },
    },
    { pattern: /^\/healthz$/, methods: { GET: () => jsonReply(200, { ok: true }) } },
    {
      pattern: /^\/readyz$/,
      methods: {
        GET: async () => {
          // A load balancer stops sending new work here while running files finish.
          opts.intake.assertOpen();
          const { storeProblem, spoolProblem } = await opts.readiness.check();
          if (storeProblem !== null || spoolProblem !== null) {
            const broken = [
              storeProblem !== null && `the store does not answer (${storeProblem})`,
              spoolProblem !== null && `the spool is not writable (${spoolProblem})`,
            ].filter(Boolean);
            throw new JobcastError('not_ready', `not ready: ${broken.join(' and ')}`);
          }
          return jsonReply(200, { ok: true });
        },
      },
    },
    {
      pattern: /^\/metrics$/,
      methods: {
        GET: async () => {
          const text = await opts.metrics.registry.metrics();
          return bytesReply(200, Buffer.from(text), { 'content-type': opts.metrics.registry.contentType });
        },
      },
    },
    {
      pattern: /^\/processors$/,
      methods: { GET: () => jsonReply(200, { default: opts.processors.default, processors: [...opts.processors.names].sort() }) },
    },
  ];
}
