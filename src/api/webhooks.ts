// POST /webhooks/alert: HMAC-signed alerts from the demo app or any generic sender.
// Answered 2xx only once Temporal has durably accepted the alert; 503 otherwise, so the sender retries.
import express, { type Router } from 'express';
import { alertFromWebhook, describeZodError, webhookAlertSchema } from '../domain/alert.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../domain/webhook-signature.js';
import type { Logger } from '../logger.js';
import { HttpError, requireJsonContentType } from './errors.js';
import type { IncidentGateway } from './incident-gateway.js';
import type { ApiMetrics } from './metrics.js';

export const WEBHOOK_BODY_LIMIT = 256 * 1024;

export function webhookRoutes(deps: {
  gateway: IncidentGateway;
  webhookSecret: string;
  logger: Logger;
  metrics: ApiMetrics;
  now?: () => number;
}): Router {
  const router = express.Router();
  const now = deps.now ?? Date.now;

  router.post(
    '/webhooks/alert',
    requireJsonContentType,
    express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }),
    async (req, res) => {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const check = verifyWebhookSignature({
        secret: deps.webhookSecret,
        rawBody,
        signature: req.header(SIGNATURE_HEADER),
        timestamp: req.header(TIMESTAMP_HEADER),
        nowMs: now(),
      });
      if (!check.ok) {
        deps.metrics.webhooks.inc({ outcome: 'unauthenticated' });
        throw new HttpError(401, 'invalid_signature', check.reason);
      }
      let json: unknown;
      try {
        json = JSON.parse(rawBody.toString('utf8'));
      } catch (err) {
        deps.metrics.webhooks.inc({ outcome: 'invalid' });
        throw new HttpError(
          400,
          'malformed_json',
          `request body is not valid JSON: ${(err as Error).message}`,
        );
      }
      const parsed = webhookAlertSchema.safeParse(json);
      if (!parsed.success) {
        deps.metrics.webhooks.inc({ outcome: 'invalid' });
        throw new HttpError(
          400,
          'invalid_alert',
          'the alert payload is invalid',
          describeZodError(parsed.error),
        );
      }
      const alert = alertFromWebhook(parsed.data, new Date(now()));
      try {
        const { workflowId, runId } = await deps.gateway.openOrJoin(alert);
        deps.metrics.webhooks.inc({ outcome: 'accepted' });
        res.status(202).json({ accepted: true, workflowId, runId, incident: `/incidents/${workflowId}` });
      } catch (err) {
        deps.metrics.webhooks.inc({ outcome: 'unavailable' });
        deps.logger.warn(
          { err: (err as Error).message, target: alert.target },
          'alert not accepted by Temporal',
        );
        throw err;
      }
    },
  );
  return router;
}
