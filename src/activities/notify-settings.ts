// Where notifications go and what their links point at: the settings, the route list's parser, and
// how a destination's URL is shown (never in full: a Slack webhook URL is its own secret).
import { defaultList, defaultText } from '../domain/settings-table.js';

/**
 * Block Kit for Slack's incoming webhooks; the generic, documented JSON body for anything else; PagerDuty's
 * Events API v2; an Adaptive Card for a Microsoft Teams incoming webhook.
 */
export type NotifyFormat = 'slack' | 'webhook' | 'pagerduty' | 'teams';

export interface NotifyDestination {
  /** Names the destination in logs, errors and the timeline, e.g. `slack` or `route on-call (webhook)`. */
  name: string;
  format: NotifyFormat;
  url: string;
  /** PagerDuty's integration key (the events go to `url`, the Events API). */
  routingKey?: string;
}

export interface NotifyRoute {
  /** An escalation level, e.g. `on-call`: notifications with this recipient go to this route. */
  level: string;
  format: NotifyFormat;
  /** Empty for PagerDuty: its events go to MEDIC_PAGERDUTY_EVENTS_URL. */
  url: string;
  routingKey?: string;
}

export interface NotifySettings {
  slackWebhookUrl?: string;
  /** Approve and Reject buttons on Slack messages that await a decision (needs the Slack app's interactivity). */
  slackButtons?: boolean;
  webhookUrl?: string;
  /** PagerDuty Events API v2: the integration key, and where events go (PagerDuty's own URL unless a test says). */
  pagerdutyRoutingKey?: string;
  pagerdutyEventsUrl?: string;
  /** A Microsoft Teams incoming webhook (Workflows) URL. */
  teamsWebhookUrl?: string;
  routes: NotifyRoute[];
  /** Base of the console and report links, e.g. `http://127.0.0.1:3000`. */
  publicUrl: string;
  temporalUiUrl: string;
  namespace: string;
  /** Each HTTP call's limit: below the notify activity's own 10 s, so a slow receiver fails the attempt clearly. */
  timeoutMs: number;
}

const LEVEL = /^[\w.@-]{1,64}$/;

/** An absolute http(s) URL, or a message saying what is wrong with it (never the URL itself). */
export function checkHttpUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https URLs are allowed';
  return undefined;
}

/** Slack's hooks host (incoming webhooks and response URLs: MEDIC_SLACK_RESPONSE_HOSTS's default). */
const SLACK_HOOKS_HOSTS = defaultList('MEDIC_SLACK_RESPONSE_HOSTS');

/** Slack's incoming webhooks live on Slack's hooks host; any other host gets the generic JSON. */
export function formatByHost(url: string): NotifyFormat {
  return SLACK_HOOKS_HOSTS.includes(new URL(url).hostname) ? 'slack' : 'webhook';
}

const ROUTING_KEY = /^[A-Za-z0-9]{20,64}$/;

/**
 * Parses `on-call=<url>,team-lead=slack:<url>,manager=webhook:<url>,lead=teams:<url>,pager=pagerduty:<key>`. A level may appear more than once
 * to reach several destinations. URLs must not contain commas (write `%2C`).
 */
export function parseNotifyRoutes(text: string): NotifyRoute[] {
  const routes: NotifyRoute[] = [];
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const [index, part] of parts.entries()) {
    const sep = part.indexOf('=');
    const level = part.slice(0, sep).trim();
    if (sep <= 0 || !LEVEL.test(level)) {
      throw new Error(
        `route ${index + 1}: expected level=URL (levels are [A-Za-z0-9_.@-]), e.g. on-call=slack:https://hooks.slack.com/services/...`,
      );
    }
    let target = part.slice(sep + 1).trim();
    const pagerduty = /^pagerduty:(.*)$/i.exec(target);
    if (pagerduty) {
      const routingKey = (pagerduty[1] ?? '').trim();
      if (!ROUTING_KEY.test(routingKey))
        throw new Error(
          `route ${index + 1} (${level}): a PagerDuty integration key is 20-64 letters and digits`,
        );
      routes.push({ level, format: 'pagerduty', url: '', routingKey });
      continue;
    }
    let format: NotifyFormat | undefined;
    const prefix = /^(slack|webhook|teams):(?=https?:)/i.exec(target);
    if (prefix?.[1]) {
      format = prefix[1].toLowerCase() as NotifyFormat;
      target = target.slice(prefix[0].length);
    }
    const problem = checkHttpUrl(target);
    if (problem) throw new Error(`route ${index + 1} (${level}): ${problem}`);
    routes.push({ level, format: format ?? formatByHost(target), url: target });
  }
  return routes;
}

const pagerdutyUrl = (settings: NotifySettings) =>
  settings.pagerdutyEventsUrl ?? defaultText('MEDIC_PAGERDUTY_EVENTS_URL');

/** Every destination the settings name, each with a name unique among them. */
export function notifyDestinations(settings: NotifySettings): {
  defaults: NotifyDestination[];
  routes: Array<NotifyDestination & { level: string }>;
} {
  const defaults: NotifyDestination[] = [
    ...(settings.slackWebhookUrl
      ? [{ name: 'slack', format: 'slack' as const, url: settings.slackWebhookUrl }]
      : []),
    ...(settings.webhookUrl
      ? [{ name: 'webhook', format: 'webhook' as const, url: settings.webhookUrl }]
      : []),
    ...(settings.pagerdutyRoutingKey
      ? [
          {
            name: 'pagerduty',
            format: 'pagerduty' as const,
            url: pagerdutyUrl(settings),
            routingKey: settings.pagerdutyRoutingKey,
          },
        ]
      : []),
    ...(settings.teamsWebhookUrl
      ? [{ name: 'teams', format: 'teams' as const, url: settings.teamsWebhookUrl }]
      : []),
  ];
  const seen = new Map<string, number>();
  const routes = settings.routes.map((route) => {
    const base = `route ${route.level} (${route.format})`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    const url = route.format === 'pagerduty' ? pagerdutyUrl(settings) : route.url;
    return { ...route, url, name: count === 1 ? base : `${base} #${count}` };
  });
  return { defaults, routes };
}

/**
 * A URL as logs and errors may show it: scheme and host only. A Slack incoming webhook's path is the
 * credential, and generic receivers often put tokens in the path or query too.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const hidden = parsed.pathname !== '/' || parsed.search !== '' || parsed.username !== '';
    return `${parsed.protocol}//${parsed.host}${hidden ? '/[redacted]' : '/'}`;
  } catch {
    return '[redacted URL]';
  }
}

/** Removes a destination's URL, and its path alone, from text that may quote it (a receiver's answer). */
export function scrubUrl(text: string, url: string): string {
  let out = text.split(url).join(redactUrl(url));
  try {
    const { pathname, search } = new URL(url);
    for (const secret of [pathname + search, pathname]) {
      if (secret.length > 1) out = out.split(secret).join('/[redacted]');
    }
  } catch {
    // Not a URL: nothing more to take out.
  }
  return out;
}
