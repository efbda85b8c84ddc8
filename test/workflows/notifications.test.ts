// The acceptance on the real dev server: a critical hang of a supervised demo app waits for approval and
// posts one "approval needed" Slack message that names the container and the proposed action and links
// to the console; a Slack receiver that is down shows in the timeline and the incident carries on. The time
// from AWAITING_APPROVAL to the post is printed, never asserted.
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { createNotifier } from '../../src/activities/notify-delivery.js';
import type { IncidentState } from '../../src/domain/types.js';
import type { incidentWorkflow } from '../../src/workflows/incident/story.js';
import { rejectSignal, statusQuery } from '../../src/workflows/messages.js';
import { alertFor, buildActivities, superviseDemoApp, testSettings } from '../support/medic.js';
import { type NotifyReceiver, startNotifyReceiver } from '../support/notify-receiver.js';
import { waitFor } from '../support/ports.js';
import { devServerForFile, uniqueTaskQueue, withIncidentWorker } from '../support/temporal.js';

const temporal = devServerForFile();
const SECRET_PATH = '/services/T0/B0/xoxSecretToken123';

interface SlackBody {
  text: string;
  blocks: Array<{ type: string; text?: { text: string }; fields?: Array<{ text: string }> }>;
}

/** What a person reads in Slack: every text of the message, mrkdwn's escapes undone. */
const shown = (body: SlackBody) =>
  [body.text, ...body.blocks.flatMap((b) => [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)])]
    .join('\n')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/**
 * Opens a critical hang incident about a fresh demo app, on a worker whose notifier posts to a local Slack
 * receiver, and waits until it awaits approval and the notify activity is over (told, or failed for good).
 */
async function withWaitingIncident(
  prepare: (slack: NotifyReceiver) => void,
  body: (ctx: {
    slack: NotifyReceiver;
    target: string;
    workflowId: string;
    waiting: IncidentState;
    notifications: () => Array<Record<string, unknown>>;
    handle: WorkflowHandle<typeof incidentWorkflow>;
  }) => Promise<void>,
) {
  const target = `wf-notify-${Date.now()}`;
  const slack = await startNotifyReceiver();
  prepare(slack);
  const { supervisor } = await superviseDemoApp({ name: target });
  const settings = testSettings();
  const notifySettings = {
    slackWebhookUrl: slack.url + SECRET_PATH,
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
  try {
    await withIncidentWorker(
      temporal,
      { taskQueue, activities: built.activities, settings, supervisor },
      async (gateway) => {
        const { workflowId } = await gateway.openOrJoin(
          alertFor(target, { alertType: 'hang', severity: 'critical' }),
        );
        const handle = temporal.client.workflow.getHandle<typeof incidentWorkflow>(workflowId);
        const waiting = await waitFor('the approval-needed notification to be over', async () => {
          const state = await handle.query(statusQuery);
          const over = state.timeline.some((t) => t.event === 'notified' || t.event === 'notify-failed');
          return state.status === 'AWAITING_APPROVAL' && over ? state : undefined;
        });
        await body({ slack, target, workflowId, waiting, notifications: built.notifications, handle });
        await handle.signal(rejectSignal, { by: 'notify-test' });
        expect((await handle.result()).status).toBe('REJECTED');
        // The outcome is told too.
        await waitFor('the rejection to be told', async () =>
          built.notifications().some((n) => n.event === 'rejected' && n.target === target),
        );
      },
    );
  } finally {
    await slack.close();
  }
}

describe('notifications from a running incident', () => {
  it('posts one "approval needed" Slack message naming the container and the proposed action, with the console link', async () => {
    await withWaitingIncident(
      () => {},
      async ({ slack, target, workflowId, waiting, notifications }) => {
        expect(waiting.timeline.map((t) => t.event)).toContain('notified');
        const approvals = slack.posts.filter((p) =>
          /^Approval needed/.test((p.body as SlackBody).blocks[0]?.text?.text ?? ''),
        );
        expect(approvals).toHaveLength(1);
        const post = approvals[0] as NotifyReceiver['posts'][number];
        expect(post.path).toBe(SECRET_PATH);
        const words = shown(post.body as SlackBody);
        expect(words).toContain(target);
        // The proposed action: from `proposed` when the workflow sends it, else from its message.
        expect(words).toMatch(/restart/i);
        expect(words).toContain(`http://127.0.0.1:3000/console#${workflowId}`);
        expect(words).toContain(
          `temporal workflow update execute --workflow-id ${workflowId} --name approve`,
        );
        expect(words).toContain(`temporal workflow signal --workflow-id ${workflowId} --name approve`);
        // Workflow code that fills `event` must call this one approval-needed; older code leaves it out.
        const sent = notifications().find((n) => /^approval needed/.test(String(n.title)));
        expect(sent).toMatchObject({
          event: 'approval-needed',
          status: 'AWAITING_APPROVAL',
          proposed: { action: 'RESTART' },
          diagnosis: { source: 'rules' },
        });

        const entered = waiting.timeline.find((t) => t.event === 'AWAITING_APPROVAL');
        if (entered) {
          const ms = post.receivedAt - Date.parse(entered.at);
          console.log(`[measure] AWAITING_APPROVAL -> Slack receiver got the POST: ${ms} ms`);
        }
      },
    );
  });

  it('records a Slack receiver that is down in the timeline, naming it without its URL, and keeps waiting', async () => {
    await withWaitingIncident(
      (slack) => {
        slack.answer = () => ({ status: 500, body: 'down' });
      },
      async ({ slack, waiting }) => {
        const failed = waiting.timeline.find((t) => t.event === 'notify-failed');
        expect(failed?.detail).toContain('notification not delivered to slack');
        expect(failed?.detail).toContain('HTTP 500');
        expect(failed?.detail).not.toContain('xoxSecretToken123');
        expect(waiting.status).toBe('AWAITING_APPROVAL');
        expect(slack.posts).toHaveLength(3); // the notify activity's three attempts, and no more
      },
    );
  });
});
