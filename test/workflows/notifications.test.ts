// The acceptance on the real dev server: a critical hang of a supervised demo app waits for approval and
// posts one "approval needed" Slack message that names the container and the proposed action and links
// to the console. The time from AWAITING_APPROVAL to the post is printed, never asserted.
import { describe, expect, it } from 'vitest';
import { createNotifier } from '../../src/activities/notify-delivery.js';
import type { IncidentState } from '../../src/domain/types.js';
import { IncidentGateway } from '../../src/temporal/incident-gateway.js';
import type { incidentWorkflow } from '../../src/workflows/incident.js';
import { rejectSignal, statusQuery } from '../../src/workflows/messages.js';
import { alertFor, buildActivities, superviseDemoApp, testSettings } from '../support/medic.js';
import { startNotifyReceiver } from '../support/notify-receiver.js';
import { waitFor } from '../support/ports.js';
import { devServerForFile, startWorker, uniqueTaskQueue } from '../support/temporal.js';

const temporal = devServerForFile();

interface SlackBody {
  text: string;
  blocks: Array<{ type: string; text?: { text: string }; fields?: Array<{ text: string }> }>;
}

const shown = (body: SlackBody) =>
  [body.text, ...body.blocks.flatMap((b) => [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)])]
    .join('\n')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

describe('notifications from a running incident', () => {
  it('posts one "approval needed" Slack message naming the container and the proposed action, with the console link', async () => {
    const target = `wf-notify-${Date.now()}`;
    const slack = await startNotifyReceiver();
    const { supervisor } = await superviseDemoApp({ name: target });
    const settings = testSettings();
    const built = buildActivities(supervisor, undefined, undefined, settings, {
      notifier: (logger) =>
        createNotifier(
          {
            slackWebhookUrl: `${slack.url}/services/T0/B0/secret`,
            routes: [],
            publicUrl: 'http://127.0.0.1:3000',
            temporalUiUrl: 'http://127.0.0.1:8233',
            namespace: 'default',
            timeoutMs: 5000,
          },
          logger,
        ),
    });
    const taskQueue = uniqueTaskQueue(target);
    const worker = await startWorker({
      connection: temporal.nativeConnection,
      taskQueue,
      activities: built.activities,
    });
    try {
      const gateway = new IncidentGateway(temporal.client, taskQueue, settings);
      const { workflowId } = await gateway.openOrJoin(
        alertFor(target, { alertType: 'hang', severity: 'critical' }),
      );
      const handle = temporal.client.workflow.getHandle<typeof incidentWorkflow>(workflowId);
      // Told once the notify activity has completed: nothing more for this wait can arrive after that.
      const waiting: IncidentState = await waitFor(
        'the approval-needed notification to be recorded',
        async () => {
          const state = await handle.query(statusQuery);
          const told = state.timeline.some((t) => t.event === 'notified' || t.event === 'notify-failed');
          return state.status === 'AWAITING_APPROVAL' && told ? state : undefined;
        },
      );
      expect(waiting.timeline.map((t) => t.event)).toContain('notified');

      const approvals = slack.posts.filter((p) =>
        /^Approval needed/.test((p.body as SlackBody).blocks[0]?.text?.text ?? ''),
      );
      expect(approvals).toHaveLength(1);
      const post = approvals[0] as (typeof slack.posts)[number];
      expect(post.path).toBe('/services/T0/B0/secret');
      const words = shown(post.body as SlackBody);
      expect(words).toContain(target);
      expect(words).toMatch(/restart/i); // the proposed action: `proposed` when the workflow sends it, else its message
      expect(words).toContain(`http://127.0.0.1:3000/console#${workflowId}`);
      expect(words).toContain(`temporal workflow update execute --workflow-id ${workflowId} --name approve`);
      expect(words).toContain(`temporal workflow signal --workflow-id ${workflowId} --name approve`);
      // Workflow code that fills `event` must call this one approval-needed; older code leaves it out.
      const sent = built
        .notifications()
        .find((n) => n.status === 'AWAITING_APPROVAL' || /^approval needed/.test(String(n.title)));
      if (sent?.event !== undefined) expect(sent.event).toBe('approval-needed');

      const entered = waiting.timeline.find((t) => t.event === 'AWAITING_APPROVAL');
      if (entered) {
        const ms = post.receivedAt - Date.parse(entered.at);
        console.log(`[measure] AWAITING_APPROVAL -> Slack receiver got the POST: ${ms} ms`);
      }

      await handle.signal(rejectSignal, { by: 'notify-test' });
      expect((await handle.result()).status).toBe('REJECTED');
    } finally {
      await worker.stop();
      await supervisor.stopAll();
      await slack.close();
    }
  });
});
