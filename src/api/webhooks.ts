// POST /webhooks/alert: HMAC-signed alerts from the demo app or any generic sender.
// The first alert of an incident is answered once Temporal holds it (503 otherwise, so the sender
// retries); duplicates of an open incident are coalesced. A signature is good once (replay protection).
import express, { type Router } from 'express';
import { alertFromWebhook, describeZodError, webhookAlertSchema } from '../domain/alert.js';
import { HttpError, requireJsonContentType } from './errors.js';
import { ReplayCache, type ReplayClaim } from './replay-cache.js';
import type { AlertDoorDeps } from './route-deps.js';
import {
  DEFAULT_TOLERANCE_MS,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from './webhook-signature.js';

export const WEBHOOK_BODY_LIMIT = 256 * 1024;

export function webhookRoutes(deps: AlertDoorDeps & { webhookSecret: string }): Router {
  const router = express.Router();
  const now = deps.now ?? Date.now;
  const replays = new ReplayCache(DEFAULT_TOLERANCE_MS);

  router.post(
    '/webhooks/alert',
    requireJsonContentType,
    express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }),
    async (req, res) => {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const signature = req.header(SIGNATURE_HEADER);
      const check = verifyWebhookSignature({
        secret: deps.webhookSecret,
        rawBody,
        signature,
        timestamp: req.header(TIMESTAMP_HEADER),
        nowMs: now(),
      });
      if (!check.ok) {
        deps.metrics.webhooks.inc({ outcome: 'unauthenticated' });
        throw new HttpError(401, 'invalid_signature', check.reason);
      }
      const sent = { signature: signature as string, timestampSeconds: check.timestampSeconds };
      refuseUnlessClaimed(replays.claim(sent.signature, sent.timestampSeconds, now()));
      try {
        res.status(202).json(await accept(rawBody, sent.signature));
        replays.settle(sent.signature, sent.timestampSeconds);
      } catch (err) {
        // Not accepted: the sender may retry the very same request. A 4xx is final: a copy is a replay.
        if (!(err instanceof HttpError) || err.status >= 500)
          replays.release(sent.signature, sent.timestampSeconds);
        else replays.settle(sent.signature, sent.timestampSeconds);
        throw err;
      }
    },
  );

  function refuseUnlessClaimed(claim: ReplayClaim): void {
    if (claim === 'claimed') return;
    if (claim === 'pending') {
      // The first copy may still fail and give the signature back: the sender must not count it delivered.
      throw new HttpError(
        503,
        'delivery_in_progress',
        'this request is still being processed; retry the same request shortly',
        undefined,
        { 'Retry-After': '1' },
      );
    }
    deps.metrics.webhooks.inc({ outcome: 'replayed' });
    if (claim === 'forgotten') {
      throw new HttpError(
        401,
        'stale_signature',
        'under the current load Medic cannot tell whether a signature this old was used; sign the request afresh',
      );
    }
    throw new HttpError(
      401,
      'replayed_signature',
      'this signature was already used; sign every request afresh (a new timestamp or body)',
    );
  }

  async function accept(rawBody: Buffer, signature: string): Promise<Record<string, unknown>> {
    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch (err) {
      deps.metrics.webhooks.inc({ outcome: 'invalid' });
      throw new HttpError(400, 'malformed_json', `request body is not valid JSON: ${(err as Error).message}`);
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
    // The signature names this delivery: a retry of a request whose answer was lost counts once.
    const alert = {
      ...alertFromWebhook(parsed.data, new Date(now()), deps.logLimits),
      deliveryId: signature,
    };
    try {
      if (alert.status === 'resolved') {
        const { workflowId, delivered } = await deps.coalescer.resolve(
          alert.target,
          alert.alertType,
          { source: 'webhook', endedAt: alert.firedAt, receivedAt: alert.receivedAt },
          alert.host,
        );
        deps.metrics.webhooks.inc({ outcome: 'resolved' });
        return { accepted: true, workflowId, resolved: delivered, incident: `/incidents/${workflowId}` };
      }
      const started = performance.now();
      const admission = await deps.coalescer.admit(alert);
      deps.metrics.admission.observe({ outcome: admission.outcome }, (performance.now() - started) / 1000);
      deps.metrics.webhooks.inc({ outcome: admission.outcome === 'opened' ? 'accepted' : 'coalesced' });
      return {
        accepted: true,
        workflowId: admission.workflowId,
        runId: admission.runId,
        coalesced: admission.outcome === 'coalesced',
        incident: `/incidents/${admission.workflowId}`,
      };
    } catch (err) {
      deps.metrics.webhooks.inc({ outcome: 'unavailable' });
      deps.logger.warn(
        { err: (err as Error).message, target: alert.target },
        'alert not accepted by Temporal',
      );
      throw err;
    }
  }
  return router;
}
