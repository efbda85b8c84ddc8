// Deciding from Slack on the real dev server: a critical hang of a supervised demo app posts an approval
// message with Approve and Reject buttons to a local Slack receiver; a local sender clicks them, signed as
// Slack signs, at Medic's API. Each `it` goes on from the one before (one incident, in order).
import type { WorkflowHandle } from '@temporalio/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifier } from '../../src/activities/notify-delivery.js';
import { createApp, DEFAULT_INGEST } from '../../src/api/app.js';
import type { IncidentState } from '../../src/domain/types.js';
import { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import type { incidentWorkflow } from '../../src/workflows/incident/story.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { type ServedApp, serveApp } from '../support/api.js';
import {
  alertFor,
  buildActivities,
  captureLogger,
  superviseDemoApp,
  testSettings,
} from '../support/medic.js';
import { type NotifyReceiver, startNotifyReceiver } from '../support/notify-receiver.js';
import { waitFor } from '../support/ports.js';
import { buttonsOf, type SlackButton, sendSigned, slackClicker } from '../support/slack-sender.js';
import { devServerForFile, startWorker, uniqueTaskQueue } from '../support/temporal.js';

const temporal = devServerForFile();
const SIGNING_SECRET = 'slack-signing-secret-0123456789';
const RESPONSE_PATH = '/actions/T0TEST/1234/xoxResponseSecret';

let slack: NotifyReceiver;
let responses: NotifyReceiver;
let api: ServedApp;
let apiLog: ReturnType<typeof captureLogger>;
let worker: Awaited<ReturnType<typeof startWorker>>;
let stopDemo: () => Promise<void>;
let handle: WorkflowHandle<typeof incidentWorkflow>;
let buttons: Record<string, SlackButton>;
let click: ReturnType<typeof slackClicker>;
let firstApproval: { actionTs: string } | undefined;

const state = () => handle.query(statusQuery);
const responseUrl = () => responses.url + RESPONSE_PATH;

beforeAll(async () => {
  const target = `wf-slack-${Date.now()}`;
  slack = await startNotifyReceiver();
  responses = await startNotifyReceiver();
  const { supervisor } = await superviseDemoApp({ name: target });
  stopDemo = () => supervisor.stopAll();
  const settings = testSettings();
  const notifySettings = {
    slackWebhookUrl: `${slack.url}/services/T0/B0/hook`,
    slackButtons: true,
    routes: [],
    publicUrl: 'http://127.0.0.1:3000',
    temporalUiUrl: 'http://127.0.0.1:8233',
    namespace: 'default',
    timeoutMs: 5000,
  };
  const built = buildActivities(supervisor, undefined, undefined, settings, {
    notifier: (logger) => createNotifier(notifySettings, logger),
  });
  const taskQueue = uniqueTaskQueue(target);
  worker = await startWorker({
    connection: temporal.nativeConnection,
    taskQueue,
    activities: built.activities,
  });
  apiLog = captureLogger();
  api = await serveApp(
    createApp({
      client: temporal.client,
      config: {
        temporal: { address: 'unused', namespace: 'default', taskQueue },
        webhookSecret: 'test-webhook-secret-0123456789',
        approverTokens: [],
        incident: settings,
        // Hundreds of generated clicks from one address: not what the rate limits' tests are about.
        ingest: { ...DEFAULT_INGEST, unauthenticatedRateLimit: { perSecond: 100_000, burst: 100_000 } },
        slack: {
          signingSecret: SIGNING_SECRET,
          approvers: [{ user: 'U0ALICE' }, { user: 'U0BOB', team: 'T0TEST' }],
          responseHosts: ['127.0.0.1'],
        },
      },
      logger: apiLog.logger,
    }),
  );
  click = slackClicker(api.base, SIGNING_SECRET);
  const gateway = new IncidentGateway(temporal.client, taskQueue, settings);
  const { workflowId } = await gateway.openOrJoin(
    alertFor(target, { alertType: 'hang', severity: 'critical' }),
  );
  handle = temporal.client.workflow.getHandle<typeof incidentWorkflow>(workflowId);
  await waitFor('the approval message with its buttons', async () => {
    const s = await state();
    const post = slack.posts.find((p) => Object.keys(buttonsOf(p.body)).length > 0);
    return s.status === 'AWAITING_APPROVAL' && post ? post : undefined;
  }).then((post) => {
    buttons = buttonsOf(post.body);
  });
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await stopDemo?.();
  await slack?.close();
  await responses?.close();
});

/** The refusals of these tests' own users (the generated clicks' users are others). */
const refusals = (s: IncidentState) =>
  s.timeline.filter((t) => t.event === 'decision-refused' && /^slack: U0(MALLORY|BOB):/.test(t.detail));

describe('Slack buttons that decide', () => {
  it('shows the exact proposal, the evidence and the expiry, with Approve and Reject bound to this question', async () => {
    const post = slack.posts.find((p) => Object.keys(buttonsOf(p.body)).length > 0);
    const text = JSON.stringify(post?.body);
    expect(text).toContain('*Proposed:*');
    expect(text).toContain('*Evidence:*');
    expect(text).toContain('*Expires:*');
    expect(Object.keys(buttons).sort()).toEqual(['medic_approve', 'medic_reject']);
    const value = JSON.parse(buttons.medic_approve?.value ?? '{}');
    expect(value).toMatchObject({ v: 1, w: handle.workflowId });
    expect(value.d).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('refuses a bad signature and a stale timestamp with 401 JSON, deciding nothing', async () => {
    const approve = buttons.medic_approve as SlackButton;
    const forged = await click(approve, { responseUrl: responseUrl(), secret: 'not-the-signing-secret' });
    expect(forged.status).toBe(401);
    expect(forged.body).toMatchObject({ error: { code: 'invalid_slack_signature' } });
    const stale = await click(approve, {
      responseUrl: responseUrl(),
      timestampSeconds: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    expect(stale.status).toBe(401);
    expect(JSON.stringify(stale.body)).toMatch(/away from now/);
    const unsigned = await fetch(`${api.base}/integrations/slack/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payload=%7B%7D',
    });
    expect(unsigned.status).toBe(401);
    // Signed, but not a payload: 400 that says so.
    const garbage = await sendSigned(api.base, SIGNING_SECRET, 'payload=not-json');
    expect(garbage).toMatchObject({ status: 400, body: { error: { code: 'invalid_slack_payload' } } });
    expect((await state()).status).toBe('AWAITING_APPROVAL');
    expect(responses.posts).toHaveLength(0);
  });

  it('answers any signed body with a 2xx or a JSON 4xx, never deciding', async () => {
    const approve = buttons.medic_approve as SlackButton;
    const field = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.integer(),
      fc.constant(null),
      fc.constant(undefined),
    );
    const payload = fc.record(
      {
        type: fc.oneof(fc.constant('block_actions'), fc.string({ maxLength: 20 })),
        user: fc.oneof(
          fc.record({ id: fc.oneof(fc.constant('U0EVE'), fc.string({ maxLength: 12 })) }),
          field,
        ),
        response_url: fc.oneof(
          fc.constant('https://evil.example/steal'),
          fc.constant('http://127.0.0.1:9/x'),
          fc.string({ maxLength: 30 }),
        ),
        actions: fc.oneof(
          fc.array(
            fc.record({
              action_id: fc.constantFrom('medic_approve', 'medic_reject', 'other'),
              value: fc.oneof(fc.constant(approve.value), fc.string({ maxLength: 60 })),
              action_ts: fc.oneof(fc.constant('1.2'), fc.string({ maxLength: 12 })),
            }),
            { maxLength: 3 },
          ),
          field,
        ),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      payload.map((p) => `payload=${encodeURIComponent(JSON.stringify(p))}`),
      fc.string({ maxLength: 80 }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const answer = await sendSigned(api.base, SIGNING_SECRET, text);
        expect(answer.status === 200 || (answer.status >= 400 && answer.status < 500)).toBe(true);
        if (answer.status >= 400) expect(answer.body).toMatchObject({ error: { code: expect.any(String) } });
      }),
      { numRuns: 150 },
    );
    // Generated clicks come from unlisted users (or none): refused, never deciding.
    const s = await state();
    expect(s.status).toBe('AWAITING_APPROVAL');
    expect(s.approval?.decidedBy).toBeUndefined();
  });

  it('refuses an unlisted user, and a listed user of another workspace, ephemerally, and records it', async () => {
    const approve = buttons.medic_approve as SlackButton;
    const mallory = await click(approve, { responseUrl: responseUrl(), user: 'U0MALLORY' });
    expect(mallory.status).toBe(200);
    const elsewhere = await click(approve, { responseUrl: responseUrl(), user: 'U0BOB', team: 'T0OTHER' });
    expect(elsewhere.status).toBe(200);
    await waitFor('both refusals answered and recorded', async () => {
      const s = await state();
      return responses.posts.length === 2 && refusals(s).length === 2 ? s : undefined;
    });
    for (const post of responses.posts) {
      expect(post.path).toBe(RESPONSE_PATH);
      expect(post.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(String((post.body as { text: string }).text)).toMatch(/You may not decide this/);
    }
    const s = await state();
    expect(refusals(s).map((r) => r.detail)).toEqual([
      expect.stringContaining('slack: U0MALLORY: may not decide'),
      expect.stringContaining('slack: U0BOB: may not decide'),
    ]);
    expect(s.status).toBe('AWAITING_APPROVAL');
  });

  it('decides a signed approve of a listed user through the Update (channel slack) and answers through response_url', async () => {
    const before = responses.posts.length;
    const actionTs = '1733300000.000100';
    const answer = await click(buttons.medic_approve as SlackButton, {
      responseUrl: responseUrl(),
      actionTs,
    });
    expect(answer.status).toBe(200);
    firstApproval = { actionTs };
    const decided = await waitFor('the approval to be taken', async () => {
      const s = await state();
      return s.status !== 'AWAITING_APPROVAL' ? s : undefined;
    });
    expect(['REMEDIATING', 'VERIFYING', 'RESOLVED']).toContain(decided.status);
    expect(decided.approval).toMatchObject({
      decision: 'approved',
      decidedBy: 'U0ALICE',
      channel: 'slack',
      updateId: `slack:${actionTs}:U0ALICE`,
    });
    const outcome = await waitFor('the outcome at the response_url', async () => responses.posts[before]);
    expect(outcome.body).toMatchObject({ replace_original: true });
    expect(String((outcome.body as { text: string }).text)).toMatch(/^Approved by <@U0ALICE> at .* UTC: /);
    // The response_url is a credential: in neither the incident's state nor the API's logs.
    expect(JSON.stringify(await state())).not.toContain('xoxResponseSecret');
    expect(JSON.stringify(apiLog.lines)).not.toContain('xoxResponseSecret');
    const result = await handle.result();
    expect(result.status).toBe('RESOLVED');
  });

  it('answers a resent click (X-Slack-Retry-Num) with the first outcome, deciding once', async () => {
    const posted = responses.posts.length;
    const resend = await click(buttons.medic_approve as SlackButton, {
      responseUrl: responseUrl(),
      actionTs: firstApproval?.actionTs as string,
      retryNum: 1,
    });
    expect(resend.status).toBe(200);
    expect(String((resend.body as { text: string }).text)).toMatch(/^Approved by <@U0ALICE>/);
    const history = await handle.fetchHistory();
    const updates = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    expect(updates).toHaveLength(1);
    expect(responses.posts.length).toBe(posted);
  });

  it('refuses a click on a request that no longer stands, saying what happened instead', async () => {
    const before = responses.posts.length;
    const late = await click(buttons.medic_reject as SlackButton, {
      responseUrl: responseUrl(),
      user: 'U0BOB',
    });
    expect(late.status).toBe(200);
    const answer = await waitFor('the refusal at the response_url', async () => responses.posts[before]);
    expect(answer.body).toMatchObject({ replace_original: true });
    expect(String((answer.body as { text: string }).text)).toMatch(
      /no longer stands: approved by U0ALICE via slack at .* UTC; it is RESOLVED/,
    );
  });
});
