// A notification as a Microsoft Teams message for an incoming webhook (a Workflows "post to a channel when a
// webhook request is received" URL): one Adaptive Card (schema 1.4) with the facts of the Slack message. A
// card cannot call back to Medic without a bot, so it links to the console, where a person decides.
import type { Notification } from './notify.js';
import { type NotificationFacts, proposedInWords, truncate } from './notify-message.js';

type CardElement =
  | {
      type: 'TextBlock';
      text: string;
      wrap: true;
      weight?: 'Bolder';
      size?: 'Medium' | 'Small';
      isSubtle?: true;
    }
  | { type: 'FactSet'; facts: Array<{ title: string; value: string }> };

export interface TeamsMessage {
  type: 'message';
  attachments: Array<{
    contentType: 'application/vnd.microsoft.card.adaptive';
    contentUrl: null;
    content: {
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
      type: 'AdaptiveCard';
      version: '1.4';
      body: CardElement[];
      actions: Array<{ type: 'Action.OpenUrl'; title: string; url: string }>;
      msteams: { width: 'Full' };
    };
  }>;
}

/** Adaptive Cards read a subset of Markdown in TextBlocks: Medic's own text is shown as typed. */
function plain(text: string, max = 2000): string {
  return truncate(text.replace(/([*_~`[\]\\])/g, '\\$1'), max);
}

const clock = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

export function teamsMessage(n: Notification, facts: NotificationFacts): TeamsMessage {
  const proposed = proposedInWords(n);
  const shown = [
    ['Target', n.target],
    ['Alert', n.alertType],
    ['Severity', n.severity],
    ['Status', n.status],
    [
      'Diagnosis',
      n.diagnosis
        ? `${n.diagnosis.source}, ${Math.round(n.diagnosis.confidence * 100)}% confident`
        : undefined,
    ],
    ['For', n.recipient],
    ['Incident', n.workflowId],
  ]
    .filter((pair): pair is [string, string] => pair[1] !== undefined)
    .map(([title, value]) => ({ title, value: plain(value, 500) }));
  const body: CardElement[] = [
    { type: 'TextBlock', text: plain(facts.headline, 300), wrap: true, weight: 'Bolder', size: 'Medium' },
    { type: 'TextBlock', text: plain(n.message || n.title), wrap: true },
    { type: 'FactSet', facts: shown },
  ];
  const proposal = n.approval?.proposed ?? proposed;
  if (proposal) body.push({ type: 'TextBlock', text: `**Proposed:** ${plain(proposal)}`, wrap: true });
  if (n.proposed?.reason)
    body.push({ type: 'TextBlock', text: `**Why:** ${plain(n.proposed.reason)}`, wrap: true });
  if (n.diagnosis?.rootCause)
    body.push({ type: 'TextBlock', text: `**Root cause:** ${plain(n.diagnosis.rootCause)}`, wrap: true });
  for (const line of (n.evidence ?? []).slice(0, 5))
    body.push({ type: 'TextBlock', text: `- ${plain(line, 300)}`, wrap: true, size: 'Small' });
  if (facts.commands) {
    const expires = n.approval?.expiresAt ? ` Expires ${clock(n.approval.expiresAt)}.` : '';
    body.push({
      type: 'TextBlock',
      text: `Decide in the console (approver token), or with \`${facts.commands.approve.update.replace(/`/g, "'")}\`.${expires}`,
      wrap: true,
      isSubtle: true,
    });
  }
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          actions: [
            {
              type: 'Action.OpenUrl',
              title: facts.commands ? 'Decide in the console' : 'Console',
              url: facts.links.console,
            },
            { type: 'Action.OpenUrl', title: 'Report', url: facts.links.report },
            { type: 'Action.OpenUrl', title: 'Temporal Web UI', url: facts.links.temporalUi },
          ],
          msteams: { width: 'Full' },
        },
      },
    ],
  };
}
