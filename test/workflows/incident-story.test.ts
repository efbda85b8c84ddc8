// How an incident reads in the Temporal Web UI and CLI, read back the way they read it: describe() gives
// the static summary and details, the workflow metadata query the current details, and the history the
// activities' and timers' summaries. A real dev server, worker and demo process.
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import type { IncidentState } from '../../src/domain/types.js';
import { approveSignal, statusQuery } from '../../src/workflows/messages.js';
import { alertFor, buildActivities, superviseDemoApp, testSettings } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { devServerForFile, uniqueTaskQueue, withIncidentWorker } from '../support/temporal.js';

const server = devServerForFile();

/** The current details the Web UI shows: what the SDK's built-in metadata query answers. */
async function currentDetails(handle: WorkflowHandle): Promise<string> {
  const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
  return metadata.currentDetails ?? '';
}

/** The summaries of the history's scheduled activities and started timers, in order. */
async function summaries(handle: WorkflowHandle): Promise<{ activities: string[]; timers: string[] }> {
  const history = await handle.fetchHistory();
  const converter = server.client.options.loadedDataConverter.payloadConverter;
  const text = (e: temporal.api.history.v1.IHistoryEvent) =>
    e.userMetadata?.summary ? String(converter.fromPayload(e.userMetadata.summary)) : '';
  const { EventType } = temporal.api.enums.v1;
  const events = history.events ?? [];
  return {
    activities: events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).map(text),
    timers: events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED).map(text),
  };
}

describe('the incident in the Web UI', () => {
  it('starts with a summary and static details, and its current details follow it from the question to healthy', async () => {
    const target = `story-${Date.now()}`;
    const { supervisor } = await superviseDemoApp({ name: target });
    const settings = testSettings();
    const taskQueue = uniqueTaskQueue('story');
    await withIncidentWorker(
      server,
      {
        taskQueue,
        activities: buildActivities(supervisor, undefined, undefined, settings).activities,
        settings,
        supervisor,
      },
      async (gateway) => {
        const { workflowId } = await gateway.openOrJoin(
          alertFor(target, { alertType: 'hang', severity: 'critical' }),
        );
        const handle = server.client.workflow.getHandle(workflowId);

        const description = await handle.describe();
        expect(await description.staticSummary()).toBe(`${target} · hang`);
        expect(await description.staticDetails()).toContain(`--workflow-id '${workflowId}'`);

        const asking = await waitFor('the incident to ask a person', async () => {
          const details = await currentDetails(handle);
          return details.startsWith('**AWAITING_APPROVAL**') ? details : undefined;
        });
        expect(asking).toContain('severity critical');
        expect(asking).toContain('**Diagnosis** (rules');
        expect(asking).toContain(`temporal workflow signal --workflow-id '${workflowId}' --name approve`);

        await handle.signal(approveSignal, { by: 'alice' });
        const state = (await handle.result()) as IncidentState;
        expect(state.status).toBe('RESOLVED');
        const healed = await currentDetails(handle);
        expect(healed).toContain('**RESOLVED**');
        expect(healed).toContain('**Decision**: approved by alice');
        expect(healed).toContain('**Verification**: healthy');
        expect(healed).toMatch(
          /\*\*Phases\*\*: ingest .* · diagnose .* · decide .* · approve .* · act .* · verify .* · record/,
        );
        expect(Object.keys(state.phases ?? {}).sort()).toEqual([
          'act',
          'approve',
          'decide',
          'diagnose',
          'ingest',
          'record',
          'verify',
        ]);
        expect(state.decisions).toEqual([
          expect.objectContaining({
            outcome: 'asked',
            policy: 'approval',
            severity: 'critical',
            lease: expect.objectContaining({ approvedBy: 'alice', outcome: 'succeeded' }),
          }),
        ]);

        const told = await summaries(handle);
        expect(told.activities).toEqual(
          expect.arrayContaining([
            `diagnose ${target}: hang (runbook, then models, then rules)`,
            expect.stringMatching(new RegExp(`^restart ${target} \\(compare-and-act on start time .+\\)$`)),
            expect.stringMatching(new RegExp(`^verify ${target} is healthy`)),
            expect.stringMatching(new RegExp(`^record resolved for ${target} in the runbook`)),
            expect.stringMatching(/^notify on-call: approval needed/),
          ]),
        );
        expect(told.activities.every((summary) => summary !== '')).toBe(true);
        expect(told.timers, JSON.stringify(told.timers)).toContain('wait for approval: on-call, 15 min');

        const guard = server.client.workflow.getHandle(`guard:local:${target}`);
        expect(await (await guard.describe()).staticSummary()).toMatch(new RegExp(`^guard · ${target}`));
        expect(await currentDetails(guard)).toContain(`**Guard** for \`${target}\``);
        await expect(handle.query(statusQuery)).resolves.toMatchObject({ status: 'RESOLVED' });
      },
    );
  });
});
