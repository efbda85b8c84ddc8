// PagerDuty (Events API v2) and Microsoft Teams (incoming webhook, Adaptive Card) over real HTTP to local
// receivers: each body checked against the services' documented schemas, PagerDuty's actions per event with
// one dedup_key per incident, routes, and the delivery's failure handling (a 400 is permanent, a 429 is not).
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Notification, NotificationEvent } from '../../src/activities/notify.js';
import { DeliveringNotifier } from '../../src/activities/notify-delivery.js';
import { type NotifySettings, parseNotifyRoutes } from '../../src/activities/notify-settings.js';
import { loadConfig } from '../../src/config.js';
import { captureLogger } from '../support/medic.js';
import { type NotifyReceiver, startNotifyReceiver } from '../support/notify-receiver.js';

const ROUTING_KEY = 'R0UTINGKEY0123456789abcdef012345';
const INCIDENT_ID = 'incident:local:shop-api:hang#2026-12-04T10:00:00.000Z';

// https://developer.pagerduty.com/api-reference/368ae3d938c9e-send-an-event-to-pager-duty (Events API v2).
const pagerDutyEvent = z
  .object({
    routing_key: z.string().length(32),
    event_action: z.enum(['trigger', 'acknowledge', 'resolve']),
    dedup_key: z.string().min(1).max(255),
    payload: z
      .object({
        summary: z.string().min(1).max(1024),
        source: z.string().min(1).max(255),
        severity: z.enum(['critical', 'error', 'warning', 'info']),
        timestamp: z.iso.datetime(),
        component: z.string().max(255).optional(),
        group: z.string().max(255).optional(),
        class: z.string().max(255).optional(),
        custom_details: z.record(z.string(), z.unknown()).optional(),
      })
      .strict(),
    links: z.array(z.object({ href: z.url(), text: z.string() }).strict()).optional(),
    images: z.array(z.unknown()).optional(),
    client: z.string().optional(),
    client_url: z.url().optional(),
  })
  .strict();

// A Teams incoming webhook's message: one attachment holding an Adaptive Card (adaptivecards.io, 1.4).
const textBlock = z
  .object({
    type: z.literal('TextBlock'),
    text: z.string().min(1),
    wrap: z.boolean().optional(),
    weight: z.enum(['Default', 'Lighter', 'Bolder']).optional(),
    size: z.enum(['Default', 'Small', 'Medium', 'Large', 'ExtraLarge']).optional(),
    isSubtle: z.boolean().optional(),
  })
  .strict();
const factSet = z
  .object({
    type: z.literal('FactSet'),
    facts: z.array(z.object({ title: z.string().min(1), value: z.string() }).strict()).min(1),
  })
  .strict();
const teamsMessage = z
  .object({
    type: z.literal('message'),
    attachments: z
      .array(
        z
          .object({
            contentType: z.literal('application/vnd.microsoft.card.adaptive'),
            contentUrl: z.null(),
            content: z
              .object({
                $schema: z.literal('http://adaptivecards.io/schemas/adaptive-card.json'),
                type: z.literal('AdaptiveCard'),
                version: z.literal('1.4'),
                body: z.array(z.union([textBlock, factSet])).min(1),
                actions: z
                  .array(
                    z.object({ type: z.literal('Action.OpenUrl'), title: z.string(), url: z.url() }).strict(),
                  )
                  .max(6),
                msteams: z.object({ width: z.literal('Full') }).optional(),
              })
              .strict(),
          })
          .strict(),
      )
      .length(1),
  })
  .strict();

let pagerduty: NotifyReceiver;
let teams: NotifyReceiver;

beforeEach(async () => {
  pagerduty = await startNotifyReceiver();
  pagerduty.answer = () => ({ status: 202, body: '{"status":"success","message":"Event processed"}' });
  teams = await startNotifyReceiver();
  teams.answer = () => ({ status: 202, body: '' });
});
afterEach(async () => {
  await pagerduty.close();
  await teams.close();
});

const settings = (overrides: Partial<NotifySettings> = {}): NotifySettings => ({
  pagerdutyRoutingKey: ROUTING_KEY,
  pagerdutyEventsUrl: `${pagerduty.url}/v2/enqueue`,
  teamsWebhookUrl: `${teams.url}/workflows/abc/triggers/manual/paths/invoke?sig=teamsSecretSig`,
  routes: [],
  publicUrl: 'http://127.0.0.1:3000',
  temporalUiUrl: 'http://127.0.0.1:8233',
  namespace: 'default',
  timeoutMs: 2000,
  ...overrides,
});

const notification = (event: NotificationEvent, overrides: Partial<Notification> = {}): Notification => ({
  level: 'warning',
  workflowId: 'incident:local:shop-api:hang',
  incidentId: INCIDENT_ID,
  target: 'shop-api',
  title: `${event} for shop-api`,
  message: 'critical severity: a person decides; proposed: RESTART',
  event,
  alertType: 'hang',
  severity: 'critical',
  status: 'AWAITING_APPROVAL',
  proposed: { action: 'RESTART', reason: 'critical severity: a person decides' },
  diagnosis: { source: 'rules', rootCause: 'the event loop is blocked', confidence: 0.9 },
  evidence: ['GET /health timed out 3 times'],
  ...overrides,
});

describe('PagerDuty Events API v2', () => {
  it('follows one incident with one dedup_key: trigger, acknowledge, resolve, each a documented event', async () => {
    const notifier = new DeliveringNotifier(settings({ teamsWebhookUrl: undefined }), captureLogger().logger);
    const story: Array<[NotificationEvent, string]> = [
      ['approval-needed', 'trigger'],
      ['escalated', 'trigger'],
      ['acting', 'acknowledge'],
      ['approval-withdrawn', 'acknowledge'],
      ['failed', 'trigger'],
      ['needs-person', 'trigger'],
      ['resolved', 'resolve'],
      ['rejected', 'resolve'],
    ];
    for (const [event] of story) await notifier.notify(notification(event));
    // Nothing PagerDuty's incident hears about.
    await notifier.notify(notification('runbook-not-updated'));
    expect(pagerduty.posts.map((p) => (p.body as { event_action: string }).event_action)).toEqual(
      story.map(([, action]) => action),
    );
    for (const post of pagerduty.posts) {
      expect(post.path).toBe('/v2/enqueue');
      expect(post.headers['content-type']).toMatch(/^application\/json/);
      const parsed = pagerDutyEvent.parse(post.body);
      expect(parsed.dedup_key).toBe(INCIDENT_ID);
      expect(parsed.routing_key).toBe(ROUTING_KEY);
      expect(parsed.payload.severity).toBe('critical');
      expect(parsed.links?.map((l) => l.href)).toEqual([
        'http://127.0.0.1:3000/console#incident:local:shop-api:hang',
        'http://127.0.0.1:3000/incidents/incident%3Alocal%3Ashop-api%3Ahang/report',
        'http://127.0.0.1:8233/namespaces/default/workflows/incident%3Alocal%3Ashop-api%3Ahang',
      ]);
    }
    const rejected = pagerduty.posts.at(-1)?.body as { payload: { summary: string } };
    expect(rejected.payload.summary).toMatch(/^Rejected: no action on shop-api/);
  });

  it("maps Medic's severities onto PagerDuty's", async () => {
    const notifier = new DeliveringNotifier(settings({ teamsWebhookUrl: undefined }), captureLogger().logger);
    for (const severity of ['critical', 'high', 'medium', 'low', 'unheard-of'])
      await notifier.notify(notification('failed', { severity }));
    expect(
      pagerduty.posts.map((p) => (p.body as { payload: { severity: string } }).payload.severity),
    ).toEqual(['critical', 'error', 'warning', 'info', 'warning']);
  });

  it('fails for good on a 400 (a wrong key) and for a retry on a 429, never naming the key', async () => {
    const notifier = new DeliveringNotifier(settings({ teamsWebhookUrl: undefined }), captureLogger().logger);
    pagerduty.answer = () => ({
      status: 400,
      body: '{"status":"invalid event","message":"Event object is invalid"}',
    });
    const refused = await notifier.notify(notification('failed')).catch((err) => err);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused.nonRetryable).toBe(true);
    expect(refused.message).toContain('pagerduty');
    expect(refused.message).not.toContain(ROUTING_KEY);
    pagerduty.answer = () => ({ status: 429, body: '{"status":"throttle event"}' });
    const throttled = await notifier.notify(notification('failed')).catch((err) => err);
    expect(throttled.nonRetryable).toBe(false);
  });

  it('reads its settings, and routes an escalation level to an integration key of its own', () => {
    const config = loadConfig({
      MEDIC_PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      MEDIC_NOTIFY_ROUTES: `manager=pagerduty:${'K'.repeat(32)}`,
    });
    expect(config.notify).toMatchObject({
      pagerdutyRoutingKey: ROUTING_KEY,
      pagerdutyEventsUrl: 'https://events.pagerduty.com/v2/enqueue',
      routes: [{ level: 'manager', format: 'pagerduty', url: '', routingKey: 'K'.repeat(32) }],
    });
    expect(() => parseNotifyRoutes('manager=pagerduty:short')).toThrow(/integration key/);
  });

  it('sends a routed level to its own key', async () => {
    const notifier = new DeliveringNotifier(
      settings({
        pagerdutyRoutingKey: undefined,
        teamsWebhookUrl: undefined,
        routes: parseNotifyRoutes(`manager=pagerduty:${'K'.repeat(32)}`),
      }),
      captureLogger().logger,
    );
    await notifier.notify(notification('needs-person', { recipient: 'manager' }));
    expect(pagerduty.posts).toHaveLength(1);
    expect(pagerDutyEvent.parse(pagerduty.posts[0]?.body).routing_key).toBe('K'.repeat(32));
  });
});

describe('Microsoft Teams incoming webhook', () => {
  it('posts an Adaptive Card with the facts of the Slack message, linking to the console', async () => {
    const notifier = new DeliveringNotifier(
      settings({ pagerdutyRoutingKey: undefined }),
      captureLogger().logger,
    );
    await notifier.notify(
      notification('approval-needed', {
        approval: {
          askedAt: '2026-12-04T10:00:00.000Z',
          expiresAt: '2026-12-04T14:00:00.000Z',
          reason: 'critical severity: a person decides',
          proposed: 'RESTART shop-api',
        },
      }),
    );
    await notifier.notify(notification('resolved', { status: 'RESOLVED' }));
    expect(teams.posts).toHaveLength(2);
    const card = teamsMessage.parse(teams.posts[0]?.body).attachments[0]?.content;
    const words = JSON.stringify(card);
    expect(words).toContain('Approval needed: restart shop-api');
    expect(words).toContain('**Proposed:** RESTART shop-api');
    expect(words).toContain('the event loop is blocked');
    expect(words).toContain('GET /health timed out 3 times');
    expect(words).toContain('Expires 2026-12-04 14:00 UTC');
    expect(card?.actions[0]).toEqual({
      type: 'Action.OpenUrl',
      title: 'Decide in the console',
      url: 'http://127.0.0.1:3000/console#incident:local:shop-api:hang',
    });
    teamsMessage.parse(teams.posts[1]?.body);
    expect(teams.posts[0]?.path).toContain('/workflows/abc/');
  });

  it('takes a route with the teams: prefix', () => {
    expect(parseNotifyRoutes('lead=teams:https://prod.westeurope.logic.azure.com/workflows/x')).toEqual([
      { level: 'lead', format: 'teams', url: 'https://prod.westeurope.logic.azure.com/workflows/x' },
    ]);
  });
});
