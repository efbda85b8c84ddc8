// A local stand-in for Slack's interactivity requests: a `block_actions` payload for a click on one of a
// message's buttons, form-encoded as `payload=<JSON>` and signed exactly as Slack documents (v0 HMAC-SHA256
// of `v0:<timestamp>:<body>` with the app's signing secret, in X-Slack-Signature and
// X-Slack-Request-Timestamp). Also reads the buttons out of a Block Kit message a receiver got.
import { createHmac } from 'node:crypto';

export interface SlackButton {
  action_id: string;
  value: string;
  text: { text: string };
}

/** The buttons of a Block Kit message, by action id. */
export function buttonsOf(message: unknown): Record<string, SlackButton> {
  const blocks = (message as { blocks?: Array<{ type: string; elements?: SlackButton[] }> }).blocks ?? [];
  const out: Record<string, SlackButton> = {};
  for (const block of blocks)
    if (block.type === 'actions')
      for (const element of block.elements ?? []) out[element.action_id] = element;
  return out;
}

export interface ClickOptions {
  user?: string;
  team?: string;
  actionTs?: string;
  responseUrl: string;
  /** Seconds: a stale one is refused. */
  timestampSeconds?: number;
  /** Sign with another secret (a forged request). */
  secret?: string;
  retryNum?: number;
}

export function blockActionsPayload(button: SlackButton, options: ClickOptions) {
  const team = options.team ?? 'T0TEST';
  const user = options.user ?? 'U0ALICE';
  return {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: team },
    api_app_id: 'A0MEDIC',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C0OPS', is_ephemeral: false },
    trigger_id: '1.2.3',
    team: { id: team, domain: 'medic-test' },
    channel: { id: 'C0OPS', name: 'ops' },
    response_url: options.responseUrl,
    actions: [
      {
        action_id: button.action_id,
        block_id: 'medic_decision',
        text: { type: 'plain_text', text: button.text.text, emoji: true },
        value: button.value,
        type: 'button',
        action_ts:
          options.actionTs ??
          `${Math.floor(Date.now() / 1000)}.${String(Date.now() % 1000).padStart(6, '0')}`,
      },
    ],
  };
}

/** A signed click sender for Medic's `POST /integrations/slack/actions`. */
export function slackClicker(apiBase: string, signingSecret: string) {
  return async (button: SlackButton, options: ClickOptions) => {
    const body = `payload=${encodeURIComponent(JSON.stringify(blockActionsPayload(button, options)))}`;
    return sendSigned(apiBase, options.secret ?? signingSecret, body, options);
  };
}

/** Posts `body` as Slack would, signed with `secret`. */
export async function sendSigned(
  apiBase: string,
  secret: string,
  body: string,
  options: { timestampSeconds?: number; retryNum?: number } = {},
) {
  const ts = options.timestampSeconds ?? Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  const response = await fetch(`${apiBase}/integrations/slack/actions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': signature,
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...(options.retryNum !== undefined
        ? { 'x-slack-retry-num': String(options.retryNum), 'x-slack-retry-reason': 'http_timeout' }
        : {}),
    },
    body,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: response.status, body: json };
}
