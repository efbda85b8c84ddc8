// Notifications to people: the notifier port and its first destination, a structured log line an
// operator's log pipeline can route. Slack and the generic webhook (notify-*.ts) plug in behind the same
// interface.
import type { Logger } from '../logger.js';

/** What a notification is about, so a receiver can say what happened and what to do next. */
export type NotificationEvent =
  | 'approval-needed'
  | 'approval-withdrawn'
  | 'escalated'
  | 'acting'
  | 'resolved'
  | 'failed'
  | 'rejected'
  | 'needs-person'
  | 'runbook-not-updated';

export interface Notification {
  level: 'info' | 'warning' | 'critical';
  workflowId: string;
  incidentId: string;
  target: string;
  title: string;
  message: string;
  /** Who should hear it: an escalation level such as `on-call`; absent means the usual channel. */
  recipient?: string;
  /** Optional: a history recorded before these facts were sent schedules notifications without them. */
  event?: NotificationEvent;
  alertType?: string;
  severity?: string;
  /** What Medic proposes to do (or did) and why. */
  /** The action proposed; a plan's step also in words, with its place in the plan. */
  proposed?: { action: string; reason: string; words?: string; step?: number; of?: number };
  diagnosis?: { source: string; rootCause: string; confidence: number };
  /** Where the incident stands now, e.g. AWAITING_APPROVAL. */
  status?: string;
  /** The open question, while one is asked: what a Slack button binds a click to, and when it expires. */
  approval?: { askedAt: string; expiresAt?: string; reason: string; proposed: string };
  /** The evidence behind the proposal, in a few lines (the diagnosis' justification, what could not be gathered). */
  evidence?: string[];
}

export interface Notifier {
  notify(notification: Notification): Promise<void>;
}

export class LogNotifier implements Notifier {
  constructor(private readonly logger: Logger) {}

  async notify(n: Notification): Promise<void> {
    const line = { notification: n };
    if (n.level === 'critical') this.logger.error(line, n.title);
    else if (n.level === 'warning') this.logger.warn(line, n.title);
    else this.logger.info(line, n.title);
  }
}
