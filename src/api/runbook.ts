// GET /runbook (the fixes with their counts, rate and standing; a reader's token) and
// POST /runbook/:id/disable|enable (an approver's token, with a note saying why). The runbook file lives
// with its single writer: each request goes through Temporal (RunbookGateway), never to the file.
import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import { FIX_ID_PATTERN } from '../domain/runbook.js';
import {
  FixNotFoundError,
  type RunbookGateway,
  RunbookUnreadableError,
  RunbookWriterUnavailableError,
} from '../temporal/runbook-gateway.js';
import { HttpError, parseBody, pathParam, requireJsonContentType } from './errors.js';

export interface RunbookDoorDeps {
  runbook: RunbookGateway;
  /** Lets a request change something only with an approver's token; sets `res.locals.approver`. */
  requireApprover: RequestHandler;
  requireReader: RequestHandler;
  /** How long a request waits for the runbook's writer before the API answers 503 (MEDIC_DECISION_TIMEOUT). */
  timeoutMs: number;
}

/** `by` is the approver token's name, as for decisions: a `by` in the body is accepted and not used. */
const toggleSchema = z.object({
  by: z.string().trim().min(1).max(100).optional(),
  note: z.string().trim().min(1, 'note must not be empty').max(2000).optional(),
});
const disableSchema = toggleSchema.extend({
  note: z
    .string({ error: 'note is required: say why the fix is turned off' })
    .trim()
    .min(1, 'note is required: say why the fix is turned off')
    .max(2000),
});

const fixId = (raw: string | string[] | undefined) =>
  pathParam(
    raw,
    FIX_ID_PATTERN,
    'invalid_fix_id',
    'fix ids look like fix-<target>-<alert type>-<hash> (letters, digits, _ . : -, max 300)',
  );

/** The runbook's own errors, in the API's words; anything else goes on to the error handler. */
function fromRunbook(err: unknown): unknown {
  if (err instanceof FixNotFoundError) return new HttpError(404, 'fix_not_found', err.message);
  if (err instanceof RunbookWriterUnavailableError) {
    return new HttpError(503, 'runbook_unavailable', err.message, undefined, {
      'Retry-After': String(err.retryAfterSeconds),
    });
  }
  if (err instanceof RunbookUnreadableError) return new HttpError(500, 'runbook_unreadable', err.message);
  return err;
}

export function runbookRoutes(deps: RunbookDoorDeps): Router {
  const router = express.Router();

  router.get('/runbook', deps.requireReader, async (_req, res) => {
    try {
      res.json(await deps.runbook.list(deps.timeoutMs));
    } catch (err) {
      throw fromRunbook(err);
    }
  });

  for (const op of ['disable', 'enable'] as const) {
    router.post(
      `/runbook/:id/${op}`,
      // Authenticated (and rate-limited per approver) before the body is read: strangers get nothing parsed.
      deps.requireApprover,
      (req, res, next) =>
        req.headers['content-length'] === '0' || !req.headers['content-type']
          ? next()
          : requireJsonContentType(req, res, next),
      express.json({ limit: '16kb' }),
      async (req, res) => {
        const id = fixId(req.params.id);
        const schema = op === 'disable' ? disableSchema : toggleSchema;
        const body = parseBody(schema, req.body ?? {}, 'invalid_body', `invalid ${op} body`);
        const by = res.locals.approver as string;
        try {
          const result = await deps.runbook.setEnabled(
            op,
            id,
            { by, ...(body.note ? { note: body.note } : {}) },
            deps.timeoutMs,
          );
          res.status(200).json(result);
        } catch (err) {
          throw fromRunbook(err);
        }
      },
    );
  }
  return router;
}
