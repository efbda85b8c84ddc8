// POST /webhooks/alert: HMAC-signed alerts from the demo app or any generic sender.
// The sender names itself (X-Medic-Sender) and signs with its own secret; the headers are judged before
// the body is read. It may speak only for the targets in its scope: anything else is a 403 and starts or
// signals nothing. The first alert of an incident is answered once Temporal holds it (503 otherwise, so
// the sender retries); duplicates of an open incident are coalesced. A signature is good once.
import express, { type Router } from 'express';
import { alertFromWebhook, describeZodError, webhookAlertSchema } from '../domain/alert.js';
import { LOCAL_HOST } from '../domain/naming.js';
import { inScope, outOfScope } from '../domain/sender-scope.js';
import type { Alert } from '../domain/types.js';
import { HttpError, requireJsonContentType } from './errors.js';
import { ReplayCache, type ReplayClaim } from './replay-cache.js';
import type { AlertDoorDeps } from './route-deps.js';
import { type SignedClaim, type WebhookSender, WebhookSenders } from './webhook-senders.js';
import { DEFAULT_TOLERANCE_MS } from './webhook-signature.js';

export const WEBHOOK_BODY_LIMIT = 256 * 1024;

export function webhookRoutes(
  deps: AlertDoorDeps & {
    senders?: WebhookSenders;
    /** Shorthand for `senders` with the plain secret only. */
    webhookSecret?: string;
  },
): Router {
  const router = express.Router();
  const now = deps.now ?? Date.now;
  const replays = new ReplayCache(DEFAULT_TOLERANCE_MS);
  const senders = deps.senders ?? new WebhookSenders([], deps.webhookSecret);
  const unauthenticated = (err: unknown): never => {
    deps.metrics.webhooks.inc({ outcome: 'unauthenticated' });
    throw err;
  };

  router.post(
    '/webhooks/alert',
    (req, res, next) => {
      // The sender and the signature headers, before a byte of the body is read.
      try {
        res.locals.claim = senders.claim(req, now());
      } catch (err) {
        deps.limits?.unauthenticated(req, 'alert');
        unauthenticated(err);
      }
      next();
    },
    requireJsonContentType,
    express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT }),
    async (req, res) => {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const claim = res.locals.claim as SignedClaim;
      const verify = () => {
        try {
          return senders.verify(claim, rawBody);
        } catch (err) {
          return unauthenticated(err);
        }
      };
      const verified = verify();
      const sent = { signature: claim.signature, timestampSeconds: claim.timestampSeconds };
      // A replayed copy is charged to its client, never to the sender it copies: a captured request must not
      // drain a real sender's bucket.
      const replay = replays.claim(sent.signature, sent.timestampSeconds, now());
      if (replay !== 'claimed') deps.limits?.unauthenticated(req, 'alert');
      refuseUnlessClaimed(replay);
      let sender = verified;
      try {
        if (deps.limits)
          sender = deps.limits.check(
            req,
            'alert',
            (s) => `webhook:${s.name}`,
            () => verified,
          );
      } catch (err) {
        replays.release(sent.signature, sent.timestampSeconds);
        throw err;
      }
      try {
        res.status(202).json(await accept(rawBody, sent.signature, sender));
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

  /** 403 for a target or host the sender may not speak for: nothing is started or signalled. */
  function refuseOutOfScope(sender: WebhookSender, alert: Alert): void {
    const host = alert.host ?? LOCAL_HOST;
    if (inScope(sender.scopes, alert.target, host)) return;
    deps.metrics.webhooks.inc({ outcome: 'out-of-scope' });
    deps.logger.warn(
      { sender: sender.name, target: alert.target, host, status: alert.status },
      'webhook alert refused: out of its sender scope',
    );
    throw new HttpError(403, 'out_of_scope', outOfScope(sender.name, sender.scopes, alert.target, host), {
      sender: sender.name,
      target: alert.target,
      host,
    });
  }

  async function accept(
    rawBody: Buffer,
    signature: string,
    sender: WebhookSender,
  ): Promise<Record<string, unknown>> {
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
    const alert: Alert = {
      ...alertFromWebhook(parsed.data, new Date(now()), deps.logLimits),
      sender: sender.name,
      deliveryId: signature,
    };
    refuseOutOfScope(sender, alert);
    try {
      if (alert.status === 'resolved') {
        const { workflowId, delivered } = await deps.coalescer.resolve(
          alert.target,
          alert.alertType,
          {
            source: 'webhook',
            sender: sender.name,
            endedAt: alert.firedAt,
            receivedAt: alert.receivedAt,
          },
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
