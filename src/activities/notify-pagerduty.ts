// A notification as a PagerDuty Events API v2 event (developer.pagerduty.com, "Send an Alert Event"): one
// PagerDuty incident per Medic incident, keyed by `dedup_key` = the incident's `state.id` (its first run: a
// later occurrence reuses the workflow id). It is triggered when a person is needed or Medic gave up,
// acknowledged when the incident goes on without one, and resolved when Medic verified the target healthy or a
// person rejected the action. Other notifications send nothing.
import type { Notification, NotificationEvent } from './notify.js';
import type { NotificationFacts } from './notify-message.js';
import { proposedInWords, truncate } from './notify-message.js';

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';
export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

/** PagerDuty's limits: a summary of 1024 characters, a source and a component of 255. */
export const PAGERDUTY_LIMITS = { summary: 1024, field: 255 } as const;

const ACTIONS: Partial<Record<NotificationEvent, PagerDutyAction>> = {
  'approval-needed': 'trigger',
  escalated: 'trigger',
  'needs-person': 'trigger',
  failed: 'trigger',
  // Medic acts, or decided again by itself and needs nobody now.
  acting: 'acknowledge',
  'approval-withdrawn': 'acknowledge',
  resolved: 'resolve',
  rejected: 'resolve',
};

const SEVERITY: Record<string, PagerDutySeverity> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'info',
};

export interface PagerDutyEvent {
  routing_key: string;
  event_action: PagerDutyAction;
  dedup_key: string;
  payload: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links: Array<{ href: string; text: string }>;
  client: string;
  client_url: string;
}

/** The event for a notification, or undefined when PagerDuty has nothing to hear about it. */
export function pagerDutyEvent(
  n: Notification,
  facts: NotificationFacts,
  delivery: { routingKey: string; sentAt: string },
): PagerDutyEvent | undefined {
  const action = facts.event ? ACTIONS[facts.event] : undefined;
  if (!action) return undefined;
  const proposed = proposedInWords(n);
  const summary = [facts.headline, n.message].filter(Boolean).join(': ');
  return {
    routing_key: delivery.routingKey,
    event_action: action,
    dedup_key: n.incidentId,
    payload: {
      summary: truncate(summary, PAGERDUTY_LIMITS.summary),
      source: truncate(n.target, PAGERDUTY_LIMITS.field),
      severity: SEVERITY[n.severity ?? ''] ?? 'warning',
      timestamp: delivery.sentAt,
      component: truncate(n.target, PAGERDUTY_LIMITS.field),
      group: truncate(n.workflowId, PAGERDUTY_LIMITS.field),
      class: truncate(n.alertType ?? 'unknown', PAGERDUTY_LIMITS.field),
      custom_details: {
        workflowId: n.workflowId,
        status: n.status ?? null,
        event: facts.event ?? null,
        proposed: proposed ?? null,
        rootCause: n.diagnosis?.rootCause ?? null,
        diagnosisSource: n.diagnosis?.source ?? null,
        ...(n.approval?.expiresAt ? { expiresAt: n.approval.expiresAt } : {}),
        ...(n.recipient ? { recipient: n.recipient } : {}),
      },
    },
    links: [
      { href: facts.links.console, text: 'Medic console' },
      { href: facts.links.report, text: 'Incident report' },
      { href: facts.links.temporalUi, text: 'Temporal Web UI' },
    ],
    client: 'Medic',
    client_url: facts.links.console,
  };
}
