// The acceptance of deciding from Slack, on the whole stack with the demo app in a real container: a
// critical hang's approval message reaches a local Slack receiver with Approve and Reject; a click on
// Approve by a listed user, signed as Slack signs, heals it, recorded with channel `slack` and that user.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NotifyReceiver, startNotifyReceiver } from '../support/notify-receiver.js';
import { waitFor } from '../support/ports.js';
import { buttonsOf, type SlackButton, slackClicker } from '../support/slack-sender.js';
import { type E2eStack, engineOrSkip, incidentReader, startE2eStack } from './support.js';

const { engine, skipReason } = engineOrSkip();
const SIGNING_SECRET = 'e2e-slack-signing-secret-0123';
let stack: E2eStack;
let slack: NotifyReceiver;
let responses: NotifyReceiver;
const DEMO = `medic-e2e-slack-${process.pid}`;

describe.skipIf(Boolean(skipReason))('deciding from Slack, end to end', () => {
  beforeAll(async () => {
    slack = await startNotifyReceiver();
    responses = await startNotifyReceiver();
    stack = await startE2eStack({
      engine: engine!,
      env: {
        MEDIC_RECURRENCE_WINDOW: '0s',
        MEDIC_SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/e2e`,
        MEDIC_SLACK_BUTTONS: 'on',
        MEDIC_SLACK_SIGNING_SECRET: SIGNING_SECRET,
        MEDIC_SLACK_APPROVERS: 'T0TEST/U0ALICE',
        MEDIC_SLACK_RESPONSE_HOSTS: '127.0.0.1',
      },
      demo: { name: DEMO, env: { MONITOR_INTERVAL_MS: '1000' } },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await slack?.close();
    await responses?.close();
  });

  it('heals an approval-needed incident on a signed click from a listed user: channel slack, decided by that user', {
    timeout: 150_000,
  }, async () => {
    const { awaitIncident } = incidentReader(() => stack.apiUrl);
    const container = engine!.docker.getContainer(DEMO);
    const before = (await container.inspect()).State.StartedAt;
    expect((await fetch(`${stack.demo.url}/trigger/hang`, { method: 'POST' })).status).toBe(202);
    const workflowId = `incident:local:${DEMO}:hang`;
    await awaitIncident(workflowId, 'AWAITING_APPROVAL');
    const message = await waitFor('the approval message with buttons', async () =>
      slack.posts.find((p) => buttonsOf(p.body).medic_approve),
    );
    const approve = buttonsOf(message.body).medic_approve as SlackButton;
    const click = slackClicker(stack.apiUrl, SIGNING_SECRET);
    const answer = await click(approve, {
      user: 'U0ALICE',
      team: 'T0TEST',
      actionTs: '1733300000.000200',
      responseUrl: `${responses.url}/actions/T0TEST/1/secret`,
    });
    expect(answer.status).toBe(200);
    const state = await awaitIncident(workflowId, 'RESOLVED');
    expect(state.approval).toMatchObject({
      decision: 'approved',
      decidedBy: 'U0ALICE',
      channel: 'slack',
      updateId: 'slack:1733300000.000200:U0ALICE',
    });
    expect((await container.inspect()).State.StartedAt).not.toBe(before);
    const outcome = await waitFor('the outcome in Slack', async () => responses.posts[0]);
    expect(String((outcome.body as { text: string }).text)).toMatch(/^Approved by <@U0ALICE>/);
  });
});
