// Incident reads and approval decisions.
import express, { type Router } from 'express';
import { z } from 'zod';
import { decisionSchema } from '../domain/alert.js';
import { INCIDENT_ID_PATTERN } from '../domain/naming.js';
import { INCIDENT_STATUSES } from '../domain/types.js';
import { HttpError, parseBody, pathParam, requireJsonContentType } from './errors.js';
import { renderIncidentReport } from './incident-report.js';
import type { ApiMetrics } from './metrics.js';
import type { IncidentDoorDeps } from './route-deps.js';

const listQuerySchema = z.object({
  status: z.enum(INCIDENT_STATUSES).optional(),
  target: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/, 'target must be a container name')
    .optional(),
  /** `true`: only incidents that have ended, the most recently ended first. */
  closed: z
    .enum(['true', 'false'], { error: 'closed must be true or false' })
    .optional()
    .transform((v) => v === 'true'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const optionalDecisionSchema = decisionSchema.partial();

const incidentId = (raw: string | string[] | undefined) =>
  pathParam(
    raw,
    INCIDENT_ID_PATTERN,
    'invalid_incident_id',
    'incident ids look like incident:<host>:<target>:<alert type> (or the older form without a host, incident-<target>-<alert type>)',
  );

/** A client's Idempotency-Key: a retried decision with the same key gets the first answer. */
function idempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (!key || !/^[A-Za-z0-9._:-]{1,200}$/.test(key)) {
    throw new HttpError(
      400,
      'invalid_idempotency_key',
      'Idempotency-Key must be 1-200 characters of A-Z a-z 0-9 . _ : -',
    );
  }
  return key;
}

export function incidentRoutes(
  deps: IncidentDoorDeps & {
    /** How long a decision may wait for a worker to take it before the API answers 503. */
    decisionTimeoutMs: number;
    metrics: ApiMetrics;
  },
): Router {
  const router = express.Router();

  router.get('/incidents', deps.requireReader, async (req, res) => {
    const query = parseBody(listQuerySchema, req.query, 'invalid_query', 'invalid query');
    res.json({ incidents: await deps.gateway.list(query) });
  });

  router.get('/incidents/:id', deps.requireReader, async (req, res) => {
    res.json(await deps.gateway.get(incidentId(req.params.id)));
  });

  // Markdown for people; `?format=json` gives the same state as GET /incidents/:id.
  router.get('/incidents/:id/report', deps.requireReader, async (req, res) => {
    const format = req.query.format ?? 'markdown';
    if (format !== 'markdown' && format !== 'json') {
      throw new HttpError(400, 'invalid_query', 'format must be markdown or json');
    }
    const state = await deps.gateway.get(incidentId(req.params.id));
    if (format === 'json') res.json(state);
    else res.type('text/markdown; charset=utf-8').send(renderIncidentReport(state));
  });

  for (const verdict of ['approve', 'reject'] as const) {
    router.post(
      `/incidents/:id/${verdict}`,
      // Authenticate before reading the body: strangers get nothing parsed.
      deps.requireApprover,
      (req, res, next) =>
        req.headers['content-length'] === '0' || !req.headers['content-type']
          ? next()
          : requireJsonContentType(req, res, next),
      express.json({ limit: '16kb' }),
      async (req, res) => {
        const id = incidentId(req.params.id);
        const body = parseBody(
          optionalDecisionSchema,
          req.body ?? {},
          'invalid_decision',
          'invalid decision body',
        );
        const by = res.locals.approver as string;
        const payload = { by, ...(body.comment ? { comment: body.comment } : {}) };
        const result = await deps.gateway.decide(id, verdict, payload, {
          idempotencyKey: idempotencyKey(req.headers['idempotency-key']),
          timeoutMs: deps.decisionTimeoutMs,
        });
        deps.metrics.decisions.inc({ decision: verdict });
        res.status(200).json(result);
      },
    );
  }
  return router;
}
