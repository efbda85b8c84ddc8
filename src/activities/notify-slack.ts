// A notification as a Slack incoming-webhook message: Block Kit blocks within Slack's documented limits,
// and a plain `text` that notifications and clients without blocks show.
import { createHash } from 'node:crypto';
import type { ActionsBlock } from '@slack/types';
import {
  encodeButtonValue,
  escapeMrkdwn,
  type QuestionFacts,
  questionText,
  SLACK_ACTION_IDS,
} from '../domain/slack-approval.js';
import type { Notification } from './notify.js';
import { type NotificationFacts, proposedInWords, truncate } from './notify-message.js';

/** Slack's limits (Block Kit reference): header text 150, section text 3000, 10 fields of 2000, 10 context elements. */
export const SLACK_LIMITS = {
  headerText: 150,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  blocks: 50,
  /** Slack truncates `text` at 40,000; a notification's preview needs far less. */
  text: 3000,
} as const;

interface TextObject {
  type: 'plain_text' | 'mrkdwn';
  text: string;
}

export type SlackBlock =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'divider' }
  | ActionsBlock;

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

export { escapeMrkdwn };

/** Escaped text cut to `max`, without leaving half an entity (`&am…`) at the cut. */
function cutEscaped(text: string, max: number): string {
  const cut = truncate(text, max);
  return text.length > max ? cut.replace(/&[a-z]*…$/, '…') : cut;
}

const mrkdwn = (text: string, max: number): TextObject => ({ type: 'mrkdwn', text: cutEscaped(text, max) });

const link = (url: string, label: string) => `<${url}|${escapeMrkdwn(label)}>`;
const code = (text: string) => `\`${escapeMrkdwn(text)}\``;

function fieldsFor(n: Notification): TextObject[] {
  const pairs: Array<[string, string | undefined]> = [
    ['Target', code(n.target)],
    ['Alert', n.alertType ? escapeMrkdwn(n.alertType) : undefined],
    ['Severity', n.severity ? escapeMrkdwn(n.severity) : undefined],
    ['Status', n.status ? escapeMrkdwn(n.status) : undefined],
    [
      'Diagnosis',
      n.diagnosis
        ? `${escapeMrkdwn(n.diagnosis.source)}, ${Math.round(n.diagnosis.confidence * 100)}% confident`
        : undefined,
    ],
    ['For', n.recipient ? escapeMrkdwn(n.recipient) : undefined],
  ];
  return pairs
    .filter((pair): pair is [string, string] => pair[1] !== undefined)
    .slice(0, SLACK_LIMITS.fields)
    .map(([label, value]) => mrkdwn(`*${label}*\n${value}`, SLACK_LIMITS.fieldText));
}

function proposalText(n: Notification): string | undefined {
  const lines = [
    ...(n.proposed ? [`*Medic proposes:* ${escapeMrkdwn(proposedInWords(n) ?? n.proposed.action)}`] : []),
    ...(n.proposed?.reason ? [`*Why:* ${escapeMrkdwn(n.proposed.reason)}`] : []),
    ...(n.diagnosis?.rootCause ? [`*Root cause:* ${escapeMrkdwn(n.diagnosis.rootCause)}`] : []),
  ];
  return lines.length > 0 ? lines.join('\n') : undefined;
}

function howToDecide(facts: NotificationFacts): string | undefined {
  if (!facts.commands) return undefined;
  const { approve, reject } = facts.commands;
  return [
    `*How to decide:* open the ${link(facts.links.console, 'approval console')}, or with the Temporal CLI:`,
    `\`\`\`${escapeMrkdwn(approve.update)}\`\`\``,
    'or, as a signal (no answer back):',
    `\`\`\`${escapeMrkdwn(approve.signal)}\`\`\``,
    `To reject: ${code(reject.update)}`,
  ].join('\n');
}

/** The digest of the question a message shows: the API refuses a click whose digest is no longer current. */
export function questionDigest(facts: QuestionFacts): string {
  return createHash('sha256').update(questionText(facts)).digest('base64url').slice(0, 32);
}

/** The question's facts as the notification carries them; undefined without an open question. */
function questionOf(n: Notification): QuestionFacts | undefined {
  if (!n.approval) return undefined;
  return {
    workflowId: n.workflowId,
    incidentId: n.incidentId,
    askedAt: n.approval.askedAt,
    reason: n.approval.reason,
    proposed: n.approval.proposed,
    rootCause: n.diagnosis?.rootCause ?? '',
  };
}

const clock = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** What the person decides on: the exact proposal, the evidence in short, and when the request expires. */
function askedText(n: Notification): string | undefined {
  if (!n.approval) return undefined;
  const evidence = (n.evidence ?? []).slice(0, 5).map((line) => `• ${escapeMrkdwn(truncate(line, 300))}`);
  return [
    `*Proposed:* ${escapeMrkdwn(n.approval.proposed)}`,
    ...(evidence.length > 0 ? ['*Evidence:*', ...evidence] : []),
    ...(n.approval.expiresAt
      ? [`*Expires:* ${clock(n.approval.expiresAt)} (then the request goes unanswered)`]
      : []),
  ].join('\n');
}

/** Approve and Reject, each carrying the incident and the question's digest (Slack allows 2000 characters). */
function decisionButtons(n: Notification): ActionsBlock | undefined {
  const question = questionOf(n);
  if (!question) return undefined;
  const value = encodeButtonValue({ workflowId: n.workflowId, digest: questionDigest(question) });
  if (value.length > 2000) return undefined;
  return {
    type: 'actions',
    block_id: 'medic_decision',
    elements: [
      {
        type: 'button',
        action_id: SLACK_ACTION_IDS.approve,
        text: { type: 'plain_text', text: 'Approve' },
        style: 'primary',
        value,
      },
      {
        type: 'button',
        action_id: SLACK_ACTION_IDS.reject,
        text: { type: 'plain_text', text: 'Reject' },
        style: 'danger',
        value,
      },
    ],
  };
}

export function slackMessage(
  n: Notification,
  facts: NotificationFacts,
  options: { buttons?: boolean } = {},
): SlackMessage {
  const section = (text: string): SlackBlock => ({
    type: 'section',
    text: mrkdwn(text, SLACK_LIMITS.sectionText),
  });
  const proposal = proposalText(n);
  const decide = howToDecide(facts);
  const asked = facts.commands ? askedText(n) : undefined;
  const buttons = facts.commands && options.buttons ? decisionButtons(n) : undefined;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(facts.headline, SLACK_LIMITS.headerText) } },
    section(escapeMrkdwn(n.message || n.title)),
    { type: 'section', fields: fieldsFor(n) },
    ...(proposal ? [section(proposal)] : []),
    ...(asked ? [section(asked)] : []),
    ...(buttons ? [buttons] : []),
    ...(decide ? [section(decide)] : []),
    {
      type: 'context',
      elements: [
        mrkdwn(
          [
            link(facts.links.console, 'Console'),
            link(facts.links.report, 'Report'),
            link(facts.links.temporalUi, 'Temporal Web UI'),
            code(n.workflowId),
          ].join(' · '),
          SLACK_LIMITS.sectionText,
        ),
      ],
    },
  ];
  return { text: fallbackText(n, facts), blocks };
}

/** The plain message: what happened, to what, what Medic proposes, and where to decide. */
function fallbackText(n: Notification, facts: NotificationFacts): string {
  const proposed = proposedInWords(n);
  const parts = [
    `${facts.headline} (${n.target})`,
    n.message,
    ...(proposed ? [`Medic proposes: ${proposed}`] : []),
    facts.commands ? `Decide: ${facts.links.console}` : `Incident: ${facts.links.report}`,
  ];
  return cutEscaped(escapeMrkdwn(parts.filter(Boolean).join(' — ')), SLACK_LIMITS.text);
}
