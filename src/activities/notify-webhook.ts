// A notification as the generic webhook's JSON body (version 1, documented in
// docs/concepts/notifications.md): every fact present, absent ones as null, so a receiver's parser needs
// no guessing.
import type { Notification, NotificationEvent } from './notify.js';
import type { DecisionCommands, NotificationFacts, NotificationLinks } from './notify-message.js';

export const WEBHOOK_BODY_VERSION = 1;

export interface WebhookBody {
  version: typeof WEBHOOK_BODY_VERSION;
  /** The same for every attempt at one notification: receivers may drop repeats (also the Idempotency-Key header). */
  id: string;
  event: NotificationEvent | null;
  level: Notification['level'];
  recipient: string | null;
  incident: {
    workflowId: string;
    id: string;
    target: string;
    alertType: string | null;
    severity: string | null;
    status: string | null;
  };
  title: string;
  headline: string;
  message: string;
  proposed: { action: string; reason: string } | null;
  diagnosis: { source: string; rootCause: string; confidence: number } | null;
  links: NotificationLinks;
  commands: { approve: DecisionCommands; reject: DecisionCommands } | null;
  sentAt: string;
}

export function webhookBody(
  n: Notification,
  facts: NotificationFacts,
  delivery: { id: string; sentAt: string },
): WebhookBody {
  return {
    version: WEBHOOK_BODY_VERSION,
    id: delivery.id,
    event: facts.event ?? null,
    level: n.level,
    recipient: n.recipient ?? null,
    incident: {
      workflowId: n.workflowId,
      id: n.incidentId,
      target: n.target,
      alertType: n.alertType ?? null,
      severity: n.severity ?? null,
      status: n.status ?? null,
    },
    title: n.title,
    headline: facts.headline,
    message: n.message,
    proposed: n.proposed ? { action: n.proposed.action, reason: n.proposed.reason } : null,
    diagnosis: n.diagnosis
      ? { source: n.diagnosis.source, rootCause: n.diagnosis.rootCause, confidence: n.diagnosis.confidence }
      : null,
    links: facts.links,
    commands: facts.commands ?? null,
    sentAt: delivery.sentAt,
  };
}
