// POST /webhooks/alertmanager: Alertmanager's webhook (version "4") with a bearer token, as
// `http_config.authorization` sends it. Alertmanager retries a 5xx and drops a 4xx for good, so 4xx
// is kept for input that is really bad; an alert about a target Medic may not touch is accepted and
// becomes an escalated incident, so a person sees it. A token with a scope speaks only for its targets:
// an alert outside it is refused and recorded (in the answer, the log and the metrics), and the others in
// the notification go on.
import express, { type Router } from 'express';
import { alertmanagerPayloadSchema, mapAlertmanagerAlert } from '../domain/alertmanager.js';
import { incidentWorkflowId, LOCAL_HOST } from '../domain/naming.js';
import { ANY_TARGET, inScope, outOfScope, type ScopedToken } from '../domain/sender-scope.js';
import type { AlertmanagerAuth } from './auth.js';
import { parseBody, requireJsonContentType } from './errors.js';
import type { AlertDoorDeps } from './route-deps.js';

export const ALERTMANAGER_BODY_LIMIT = 1024 * 1024;

interface AlertResult {
  fingerprint?: string;
  workflowId: string;
  outcome: 'opened' | 'coalesced' | 'resolved' | 'no-open-incident' | 'out-of-scope';
  /** Why an alert was refused. */
  reason?: string;
}

export function alertmanagerRoutes(
  deps: AlertDoorDeps & {
    auth: AlertmanagerAuth;
    targetLabels: readonly string[];
    hostLabels: readonly string[];
  },
): Router {
  const router = express.Router();
  const now = deps.now ?? Date.now;

  router.post(
    '/webhooks/alertmanager',
    (req, res, next) => {
      // Authenticate before reading the body: strangers get nothing parsed.
      const identify = () => deps.auth.identify(req);
      res.locals.token = deps.limits
        ? deps.limits.check(req, 'alert', (t) => `alertmanager:${t.name}`, identify)
        : identify();
      next();
    },
    requireJsonContentType,
    express.json({ limit: ALERTMANAGER_BODY_LIMIT, strict: true }),
    async (req, res) => {
      const payload = parseBody(
        alertmanagerPayloadSchema,
        req.body,
        'invalid_notification',
        'not an Alertmanager webhook notification (version 4)',
      );
      const notification = payload;
      if (notification.truncatedAlerts > 0) {
        deps.metrics.alertmanagerTruncated.inc(notification.truncatedAlerts);
        deps.logger.warn(
          { receiver: notification.receiver, truncatedAlerts: notification.truncatedAlerts },
          'Alertmanager truncated this notification; raise max_alerts in the webhook config',
        );
      }
      const token = res.locals.token as ScopedToken;
      const sender = token.name;
      const scopes = token.scopes ?? [ANY_TARGET];
      const receivedAt = new Date(now());
      const settled = await Promise.allSettled(
        notification.alerts.map(async (am): Promise<AlertResult> => {
          const mapped = mapAlertmanagerAlert(am, {
            targetLabels: deps.targetLabels,
            hostLabels: deps.hostLabels,
            receivedAt,
            logLimits: deps.logLimits,
          });
          const fingerprint = am.fingerprint ? { fingerprint: am.fingerprint } : {};
          const target = mapped.kind === 'resolved' ? mapped.target : mapped.alert.target;
          const host = (mapped.kind === 'resolved' ? mapped.host : mapped.alert.host) ?? LOCAL_HOST;
          const alertType = mapped.kind === 'resolved' ? mapped.alertType : mapped.alert.alertType;
          if (!inScope(scopes, target, host)) {
            const reason = outOfScope(sender, scopes, target, host);
            deps.logger.warn(
              { receiver: notification.receiver, sender, target, host, status: am.status },
              'Alertmanager alert refused: out of its token scope',
            );
            return {
              ...fingerprint,
              workflowId: incidentWorkflowId(target, alertType, host),
              outcome: 'out-of-scope',
              reason,
            };
          }
          if (mapped.kind === 'resolved') {
            const { workflowId, delivered } = await deps.coalescer.resolve(
              mapped.target,
              mapped.alertType,
              { ...mapped.resolved, sender },
              mapped.host,
            );
            return { ...fingerprint, workflowId, outcome: delivered ? 'resolved' : 'no-open-incident' };
          }
          const started = performance.now();
          const admission = await deps.coalescer.admit({ ...mapped.alert, sender });
          deps.metrics.admission.observe(
            { outcome: admission.outcome },
            (performance.now() - started) / 1000,
          );
          return { ...fingerprint, workflowId: admission.workflowId, outcome: admission.outcome };
        }),
      );
      const results: AlertResult[] = [];
      let failure: unknown;
      for (const s of settled) {
        if (s.status === 'fulfilled') {
          results.push(s.value);
          deps.metrics.alertmanager.inc({ outcome: s.value.outcome });
        } else {
          failure ??= s.reason;
          deps.metrics.alertmanager.inc({ outcome: 'unavailable' });
        }
      }
      if (failure) {
        // Alertmanager resends the whole notification; the alerts taken already count again as duplicates.
        deps.logger.warn(
          { receiver: notification.receiver, err: (failure as Error).message, taken: results.length },
          'Alertmanager notification not fully accepted',
        );
        throw failure;
      }
      const refused = results.filter((r) => r.outcome === 'out-of-scope').length;
      res.status(200).json({ accepted: results.length - refused, refused, sender, alerts: results });
    },
  );
  return router;
}
