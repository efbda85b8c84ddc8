// Notifications over real HTTP to local receivers: Slack's Block Kit and the generic JSON body checked
// against schemas, routes by escalation level, and receivers that fail without the secret URL leaking.
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Notification } from '../../src/activities/notify.js';
import { createNotifier, DeliveringNotifier } from '../../src/activities/notify-delivery.js';
import type { NotifySettings } from '../../src/activities/notify-settings.js';
import { captureLogger } from '../support/medic.js';
import { type NotifyReceiver, startNotifyReceiver } from '../support/notify-receiver.js';
import { refusingPort } from '../support/ports.js';

const SECRET_PATH = '/services/T0SECRET/B0SECRET/xoxSecretToken123';
const WORKFLOW_ID = 'incident:local:shop-api:hang';

// Block Kit as Slack documents it for messages (the types Medic sends), with its text limits.
const text = (max: number, type?: 'plain_text' | 'mrkdwn') =>
  z.object({
    type: type ? z.literal(type) : z.enum(['plain_text', 'mrkdwn']),
    text: z.string().min(1).max(max),
  });
const slackBlock = z.discriminatedUnion('type', [
  z.object({ type: z.literal('header'), text: text(150, 'plain_text') }).strict(),
  z
    .object({
      type: z.literal('section'),
      text: text(3000).optional(),
      fields: z.array(text(2000)).min(1).max(10).optional(),
    })
    .strict()
    .refine((s) => s.text || s.fields, 'a section needs text or fields'),
  z.object({ type: z.literal('context'), elements: z.array(text(3000)).min(1).max(10) }).strict(),
  z.object({ type: z.literal('divider') }).strict(),
]);
const slackMessage = z
  .object({ text: z.string().min(1).max(40_000), blocks: z.array(slackBlock).min(1).max(50) })
  .strict();

// The generic webhook's body exactly as docs/concepts/notifications.md documents it (version 1).
const commands = z.object({ update: z.string(), signal: z.string() }).strict();
const webhookBody = z
  .object({
    version: z.literal(1),
    id: z.string().min(1),
    event: z
      .enum([
        'approval-needed',
        'escalated',
        'acting',
        'resolved',
        'failed',
        'rejected',
        'needs-person',
        'runbook-not-updated',
      ])
      .nullable(),
    level: z.enum(['info', 'warning', 'critical']),
    recipient: z.string().nullable(),
    incident: z
      .object({
        workflowId: z.string(),
        id: z.string(),
        target: z.string(),
        alertType: z.string().nullable(),
        severity: z.string().nullable(),
        status: z.string().nullable(),
      })
      .strict(),
    title: z.string(),
    headline: z.string(),
    message: z.string(),
    proposed: z.object({ action: z.string(), reason: z.string() }).strict().nullable(),
    diagnosis: z
      .object({ source: z.string(), rootCause: z.string(), confidence: z.number() })
      .strict()
      .nullable(),
    links: z.object({ console: z.url(), report: z.url(), temporalUi: z.url() }).strict(),
    commands: z.object({ approve: commands, reject: commands }).strict().nullable(),
    sentAt: z.iso.datetime(),
  })
  .strict();

const approvalNeeded: Notification = {
  level: 'warning',
  workflowId: WORKFLOW_ID,
  incidentId: WORKFLOW_ID,
  target: 'shop-api',
  title: `approval needed for ${WORKFLOW_ID}`,
  message: 'restart at critical severity needs approval by policy; proposed: RESTART',
  recipient: 'on-call',
  event: 'approval-needed',
  alertType: 'hang',
  severity: 'critical',
  proposed: { action: 'RESTART', reason: 'restart at critical severity needs approval by policy' },
  diagnosis: { source: 'rules', rootCause: 'the event loop is blocked', confidence: 0.8 },
  status: 'AWAITING_APPROVAL',
};

/** What Slack shows: mrkdwn's escapes undone, every text of the message joined. */
const unescapeMrkdwn = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
function allText(message: z.infer<typeof slackMessage>): string {
  const texts = message.blocks.flatMap((b) => {
    if (b.type === 'header') return [b.text.text];
    if (b.type === 'section') return [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)];
    if (b.type === 'context') return b.elements.map((e) => e.text);
    return [];
  });
  return unescapeMrkdwn(texts.join('\n'));
}

const APPROVE_UPDATE = `temporal workflow update execute --workflow-id ${WORKFLOW_ID} --name approve --input '{"by":"<you>"}'`;
const APPROVE_SIGNAL = `temporal workflow signal --workflow-id ${WORKFLOW_ID} --name approve --input '{"by":"<you>"}'`;

/** The mock environment logs each failed attempt with its stack; the test asserts the failure itself. */
const quiet = { logger: new DefaultLogger('ERROR') };

let receivers: NotifyReceiver[] = [];
async function receiver(): Promise<NotifyReceiver> {
  const r = await startNotifyReceiver();
  receivers.push(r);
  return r;
}

function settings(overrides: Partial<NotifySettings> = {}): NotifySettings {
  return {
    routes: [],
    publicUrl: 'http://127.0.0.1:3000',
    temporalUiUrl: 'http://127.0.0.1:8233',
    namespace: 'default',
    timeoutMs: 2000,
    ...overrides,
  };
}

beforeEach(() => {
  receivers = [];
});
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

describe('Slack incoming-webhook messages', () => {
  it('say what happened, name the container and the proposed action, and say how to approve, within Block Kit limits', async () => {
    const slack = await receiver();
    const { logger } = captureLogger();
    await createNotifier(settings({ slackWebhookUrl: slack.url + SECRET_PATH }), logger).notify(
      approvalNeeded,
    );

    expect(slack.posts).toHaveLength(1);
    const post = slack.posts[0];
    expect(post?.path).toBe(SECRET_PATH);
    const message = slackMessage.parse(post?.body);
    const shown = allText(message);
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Approval needed: restart shop-api' },
    });
    for (const expected of [
      'shop-api',
      'hang',
      'critical',
      'AWAITING_APPROVAL',
      'rules, 80% confident',
      'Medic proposes:* restart shop-api',
      'restart at critical severity needs approval by policy',
      `<http://127.0.0.1:3000/console#${WORKFLOW_ID}|approval console>`,
      APPROVE_UPDATE,
      APPROVE_SIGNAL,
      `<http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(WORKFLOW_ID)}|Temporal Web UI>`,
      `<http://127.0.0.1:3000/incidents/${encodeURIComponent(WORKFLOW_ID)}/report|Report>`,
    ]) {
      expect(shown).toContain(expected);
    }
    // Nothing Medic quotes can become a link or mention: `<you>` arrives escaped.
    expect(JSON.stringify(message.blocks)).not.toContain('<you>');
    expect(unescapeMrkdwn(message.text)).toContain(`http://127.0.0.1:3000/console#${WORKFLOW_ID}`);
    expect(message.text).toContain('restart shop-api');
  });

  it('keep every text within its limit when the facts are huge, and escape what Slack would read as markup', async () => {
    const slack = await receiver();
    const { logger } = captureLogger();
    const huge: Notification = {
      ...approvalNeeded,
      target: 'x'.repeat(300),
      message: `<!channel> & ${'a very long log line '.repeat(500)}`,
      proposed: { action: 'RESTART', reason: 'because & <b>'.repeat(400) },
      diagnosis: { source: 'gemini', rootCause: '&'.repeat(5000), confidence: 0.51 },
    };
    await createNotifier(settings({ slackWebhookUrl: slack.url + SECRET_PATH }), logger).notify(huge);
    const message = slackMessage.parse(slack.posts[0]?.body);
    expect(JSON.stringify(message)).not.toContain('<!channel>');
    expect(JSON.stringify(message)).not.toMatch(/&[a-z]*…/); // no entity cut in half
  });

  it('cope with a notification from an incident older than the event field: what the title says is enough', async () => {
    const slack = await receiver();
    const { logger } = captureLogger();
    const { event, alertType, severity, proposed, diagnosis, status, ...old } = approvalNeeded;
    await createNotifier(settings({ slackWebhookUrl: slack.url + SECRET_PATH }), logger).notify(old);
    const message = slackMessage.parse(slack.posts[0]?.body);
    const shown = allText(message);
    expect(message.blocks[0]).toMatchObject({ text: { text: 'Approval needed for shop-api' } });
    expect(shown).toContain('proposed: RESTART');
    expect(shown).toContain(APPROVE_UPDATE);
    expect(shown).toContain(`/console#${WORKFLOW_ID}`);
  });

  it('offer no decision once the incident is decided', async () => {
    const slack = await receiver();
    const { logger } = captureLogger();
    await createNotifier(settings({ slackWebhookUrl: slack.url }), logger).notify({
      ...approvalNeeded,
      level: 'info',
      event: 'resolved',
      title: `incident ${WORKFLOW_ID} resolved`,
      message: 'healthy again after the restart',
      status: 'RESOLVED',
      recipient: undefined,
    });
    const shown = allText(slackMessage.parse(slack.posts[0]?.body));
    expect(shown).toContain('Resolved: shop-api is healthy again');
    expect(shown).not.toContain('temporal workflow');
  });
});

describe('the generic JSON webhook', () => {
  it('posts the documented body with every fact, links, the decision commands and an idempotency key', async () => {
    const hook = await receiver();
    const { logger } = captureLogger();
    await createNotifier(settings({ webhookUrl: `${hook.url}/medic?token=abc` }), logger).notify(
      approvalNeeded,
    );

    const post = hook.posts[0];
    const body = webhookBody.parse(post?.body);
    expect(post?.headers['content-type']).toMatch(/^application\/json/);
    expect(post?.headers['idempotency-key']).toBe(body.id);
    expect(body).toMatchObject({
      event: 'approval-needed',
      level: 'warning',
      recipient: 'on-call',
      incident: {
        workflowId: WORKFLOW_ID,
        target: 'shop-api',
        alertType: 'hang',
        severity: 'critical',
        status: 'AWAITING_APPROVAL',
      },
      proposed: approvalNeeded.proposed,
      diagnosis: approvalNeeded.diagnosis,
      links: {
        console: `http://127.0.0.1:3000/console#${WORKFLOW_ID}`,
        report: `http://127.0.0.1:3000/incidents/${encodeURIComponent(WORKFLOW_ID)}/report`,
        temporalUi: `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(WORKFLOW_ID)}`,
      },
      commands: { approve: { update: APPROVE_UPDATE, signal: APPROVE_SIGNAL } },
    });
    expect(body.commands?.reject.update).toContain('--name reject');
  });

  it('gives absent facts as null, and names the namespace in commands when it is not the default', async () => {
    const hook = await receiver();
    const { logger } = captureLogger();
    await createNotifier(settings({ webhookUrl: hook.url, namespace: 'prod ops' }), logger).notify({
      level: 'critical',
      workflowId: WORKFLOW_ID,
      incidentId: WORKFLOW_ID,
      target: 'shop-api',
      title: `still waiting for approval of ${WORKFLOW_ID}`,
      message: 'no decision after 15 min',
      recipient: 'team-lead',
    });
    const body = webhookBody.parse(hook.posts[0]?.body);
    expect(body).toMatchObject({
      event: 'escalated',
      proposed: null,
      diagnosis: null,
      incident: { alertType: null, status: null },
    });
    expect(body.commands?.approve.update).toContain(`--namespace 'prod ops' --workflow-id ${WORKFLOW_ID}`);
    expect(body.links.temporalUi).toContain('/namespaces/prod%20ops/');
  });
});

describe('routes by escalation level', () => {
  it('sends on-call to its route, team-lead to its own, and the rest to the default destinations', async () => {
    const [a, b, defaults] = [await receiver(), await receiver(), await receiver()];
    const { logger } = captureLogger();
    const notifier = createNotifier(
      settings({
        slackWebhookUrl: defaults.url,
        routes: [
          { level: 'on-call', format: 'slack', url: `${a.url}/a` },
          { level: 'team-lead', format: 'webhook', url: `${b.url}/b` },
        ],
      }),
      logger,
    );
    await notifier.notify({ ...approvalNeeded, recipient: 'on-call' });
    await notifier.notify({ ...approvalNeeded, event: 'escalated', recipient: 'team-lead' });
    await notifier.notify({ ...approvalNeeded, event: 'failed', recipient: undefined });

    expect(a.posts.map((p) => p.path)).toEqual(['/a']);
    slackMessage.parse(a.posts[0]?.body);
    expect(b.posts.map((p) => p.path)).toEqual(['/b']);
    expect(webhookBody.parse(b.posts[0]?.body)).toMatchObject({ event: 'escalated', recipient: 'team-lead' });
    expect(defaults.posts).toHaveLength(1);
    expect(allText(slackMessage.parse(defaults.posts[0]?.body))).toContain(
      'Failed: Medic could not heal shop-api',
    );
  });
});

describe('receivers that fail', () => {
  async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }

  it('a 500 fails the activity naming the destination, retryably, and the secret path appears nowhere', async () => {
    const slack = await receiver();
    slack.answer = () => ({ status: 500, body: `internal error at ${SECRET_PATH}` });
    const { logger, lines } = captureLogger();
    const failure = await failureOf(
      createNotifier(settings({ slackWebhookUrl: slack.url + SECRET_PATH }), logger).notify(approvalNeeded),
    );
    expect(failure.message).toContain(
      `notification not delivered to slack (${slack.url}/[redacted]): HTTP 500`,
    );
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).not.toContain('xoxSecretToken123');
    expect(JSON.stringify(lines)).not.toContain('xoxSecretToken123');
    expect(lines.some((l) => l.msg === 'notification not delivered' && l.destination === 'slack')).toBe(true);
  });

  it('a refused connection and a receiver that never answers fail with what happened', async () => {
    const closed = await refusingPort();
    const silent = await receiver();
    silent.answer = () => ({ status: 0, hang: true });
    const { logger, lines } = captureLogger();
    try {
      const failure = await failureOf(
        createNotifier(
          settings({
            slackWebhookUrl: closed.url + SECRET_PATH,
            webhookUrl: `${silent.url}/hook/xoxSecretToken123`,
            timeoutMs: 300,
          }),
          logger,
        ).notify(approvalNeeded),
      );
      expect(failure.message).toMatch(
        /slack \(http:\/\/127\.0\.0\.1:\d+\/\[redacted\]\): connection refused/,
      );
      expect(failure.message).toMatch(
        /webhook \(http:\/\/127\.0\.0\.1:\d+\/\[redacted\]\): no answer within 0\.3 s/,
      );
      expect(`${failure.message}${JSON.stringify(lines)}`).not.toContain('xoxSecretToken123');
    } finally {
      await closed.release();
    }
  });

  it('a refusal (404, a revoked hook) is final: retrying cannot help', async () => {
    const slack = await receiver();
    slack.answer = () => ({ status: 404, body: 'no_service' });
    const { logger } = captureLogger();
    const failure = await failureOf(
      createNotifier(settings({ slackWebhookUrl: slack.url }), logger).notify(approvalNeeded),
    );
    expect(failure.message).toContain('HTTP 404 "no_service"');
    expect(failure.nonRetryable).toBe(true);
  });

  it('a retry of the activity sends only to the destination that failed, not again to the one that took it', async () => {
    const [slack, hook] = [await receiver(), await receiver()];
    hook.answer = () => (hook.posts.length === 1 ? { status: 503 } : { status: 204 });
    const { logger } = captureLogger();
    const notifier = new DeliveringNotifier(
      settings({ slackWebhookUrl: slack.url, webhookUrl: hook.url }),
      logger,
    );
    // One activity (same workflow, run and activity id) on its first attempt and its retry.
    const activity = new MockActivityEnvironment({ activityId: '7' }, quiet);
    const first = await failureOf(activity.run(() => notifier.notify(approvalNeeded)));
    expect(first.message).toMatch(/not delivered to webhook .*HTTP 503.* \(delivered to slack\)$/);
    await activity.run(() => notifier.notify(approvalNeeded));

    expect(slack.posts).toHaveLength(1);
    expect(hook.posts).toHaveLength(2);
    const [one, two] = hook.posts.map((p) => webhookBody.parse(p.body).id);
    expect(one).toBe(two);
    // Another activity (the next notification) goes to both again.
    await new MockActivityEnvironment({ activityId: '8' }, quiet).run(() => notifier.notify(approvalNeeded));
    expect(slack.posts).toHaveLength(2);
  });
});
