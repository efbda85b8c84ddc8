// What every notification says, whatever its format: the event in words, the links to the console, the
// report and the Web UI, and the exact commands that decide. Slack and the generic webhook render these.
import type { Notification, NotificationEvent } from './notify.js';
import type { NotifySettings } from './notify-settings.js';

export interface NotificationLinks {
  console: string;
  report: string;
  temporalUi: string;
}

/** The CLI commands for one decision: the Update answers with the outcome, the signal does not. */
export interface DecisionCommands {
  update: string;
  signal: string;
}

/** The facts a receiver renders, derived once from a notification and the settings. */
export interface NotificationFacts {
  event: NotificationEvent | undefined;
  headline: string;
  links: NotificationLinks;
  /** Present while a decision is awaited (approval-needed, escalated). */
  commands: { approve: DecisionCommands; reject: DecisionCommands } | undefined;
}

/**
 * The event, also for notifications sent by workflow code older than the `event` field: those said what
 * happened in the title only, and that text is fixed in their histories, so it can be read back reliably.
 */
export function eventOf(n: Notification): NotificationEvent | undefined {
  if (n.event) return n.event;
  if (/^approval needed\b/i.test(n.title)) return 'approval-needed';
  if (/^still waiting for approval\b/i.test(n.title)) return 'escalated';
  if (/ no longer needs anyone$/i.test(n.title)) return 'approval-withdrawn';
  if (/^restarting\b/i.test(n.title)) return 'acting';
  if (/ needs a person$/i.test(n.title)) return 'needs-person';
  if (/ failed$/i.test(n.title)) return 'failed';
  if (/^runbook not updated\b/i.test(n.title)) return 'runbook-not-updated';
  return n.status === 'AWAITING_APPROVAL' ? 'approval-needed' : undefined;
}

const ACTION_WORDS: Record<string, string> = {
  RESTART: 'restart',
  NOOP: 'take no action on',
  ESCALATE: 'hand to a person',
};

/** `restart demo-app`: the proposed action in words, or undefined when none was sent. */
export function proposedInWords(n: Notification): string | undefined {
  if (!n.proposed) return undefined;
  const { words, step, of } = n.proposed;
  if (words) return step && of && of > 1 ? `step ${step} of ${of}: ${words}` : words;
  const verb = ACTION_WORDS[n.proposed.action] ?? n.proposed.action.toLowerCase();
  return `${verb} ${n.target}`;
}

/** One line that says what happened, for a header or a subject. */
export function headline(n: Notification, event = eventOf(n)): string {
  const proposed = proposedInWords(n);
  switch (event) {
    case 'approval-needed':
      return proposed ? `Approval needed: ${proposed}` : `Approval needed for ${n.target}`;
    case 'approval-withdrawn':
      return `No longer needs anyone: ${n.target}`;
    case 'escalated':
      return `Still waiting for approval: ${n.target}${n.recipient ? ` (escalated to ${n.recipient})` : ''}`;
    case 'acting':
      return proposed ? `Medic is acting: ${proposed}` : `Medic is acting on ${n.target}`;
    case 'resolved':
      return `Resolved: ${n.target} is healthy again`;
    case 'failed':
      return `Failed: Medic could not heal ${n.target}`;
    case 'rejected':
      return `Rejected: no action on ${n.target}`;
    case 'needs-person':
      return `${n.target} needs a person`;
    case 'runbook-not-updated':
      return `Runbook not updated after ${n.target}`;
    default:
      return n.title;
  }
}

/** A workflow id in a URL fragment: escaped where it must be, `:` kept so it stays readable. */
function fragment(id: string): string {
  return encodeURIComponent(id).replace(/%3A/gi, ':');
}

export function linksFor(n: Notification, settings: NotifySettings): NotificationLinks {
  const base = settings.publicUrl.replace(/\/+$/, '');
  const ui = settings.temporalUiUrl.replace(/\/+$/, '');
  const id = encodeURIComponent(n.workflowId);
  return {
    console: `${base}/console#${fragment(n.workflowId)}`,
    report: `${base}/incidents/${id}/report`,
    temporalUi: `${ui}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${id}`,
  };
}

/** Quotes for a POSIX shell only when needed, so the usual id reads as typed. */
function shellWord(text: string): string {
  return /^[\w:.@/-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export function commandsFor(n: Notification, namespace: string): NotificationFacts['commands'] {
  const ns = namespace === 'default' ? '' : ` --namespace ${shellWord(namespace)}`;
  const id = shellWord(n.workflowId);
  const input = `--input '{"by":"<you>"}'`;
  const one = (name: 'approve' | 'reject'): DecisionCommands => ({
    update: `temporal workflow update execute${ns} --workflow-id ${id} --name ${name} ${input}`,
    signal: `temporal workflow signal${ns} --workflow-id ${id} --name ${name} ${input}`,
  });
  return { approve: one('approve'), reject: one('reject') };
}

export function factsFor(n: Notification, settings: NotifySettings): NotificationFacts {
  const event = eventOf(n);
  const awaiting = event === 'approval-needed' || event === 'escalated';
  return {
    event,
    headline: headline(n, event),
    links: linksFor(n, settings),
    commands: awaiting ? commandsFor(n, settings.namespace) : undefined,
  };
}

/** Cuts text to at most `max` UTF-16 units (never more characters than Slack counts), marking the cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  // Never split a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
