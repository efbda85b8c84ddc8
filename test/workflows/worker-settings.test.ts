// On the real dev server: the worker that runs the workflows owns the safety settings.
// An operator who sets dry-run on the worker alone gets dry runs, whatever the API that started the
// incident was configured with, and the incident says that the two differ.
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/domain/types.js';
import type { incidentWorkflow } from '../../src/workflows/incident/story.js';
import { alertSignal, approveSignal, statusQuery } from '../../src/workflows/messages.js';
import { alertFor, buildActivities, superviseDemoApp, testSettings } from '../support/medic.js';
import { waitFor } from '../support/ports.js';
import { devServerForFile, uniqueTaskQueue, withIncidentWorker } from '../support/temporal.js';

const temporal = devServerForFile();

describe('the worker owns the safety settings', () => {
  it('runs dry when the worker is in dry-run, though the starter is not, and says the settings differ', async () => {
    const target = `worker-settings-${Date.now()}`;
    const { supervisor } = await superviseDemoApp({ name: target });
    const taskQueue = uniqueTaskQueue('worker-settings');
    // The API (the starter) was configured without dry-run and with another severity table.
    const starter = testSettings({ dryRun: false });
    await withIncidentWorker(
      temporal,
      {
        taskQueue,
        activities: buildActivities(supervisor, undefined, undefined, testSettings({ dryRun: true }))
          .activities,
        settings: starter,
        supervisor,
      },
      async (gateway) => {
        const before = await supervisor.inspect(target);
        const { workflowId } = await gateway.openOrJoin(alertFor(target));
        const result = await temporal.client.workflow.getHandle<typeof incidentWorkflow>(workflowId).result();

        expect(result.dryRun).toBe(true);
        expect(result.actions.map((a) => a.outcome)).toEqual(['would-restart']);
        expect((await supervisor.inspect(target))?.startedAt).toBe(before?.startedAt);
        expect(result.timeline.find((t) => t.event === 'settings-differ')?.detail).toContain('dryRun');
      },
    );
  });

  it('keeps the worker’s dry-run across a continue-as-new: an approval then restarts nothing', async () => {
    const target = `dry-run-holds-${Date.now()}`;
    const { supervisor } = await superviseDemoApp({ name: target });
    const taskQueue = uniqueTaskQueue('dry-run-holds');
    const live = testSettings({ historyEventsLimit: 60 });
    const before = await supervisor.inspect(target);
    // The incident starts on a worker that acts, and waits for a person.
    const workflowId = await withIncidentWorker(
      temporal,
      {
        taskQueue,
        activities: buildActivities(supervisor, undefined, undefined, live).activities,
        // Not stopped with this worker: the second one needs it.
        settings: live,
      },
      async (gateway) => {
        const opened = await gateway.openOrJoin(
          alertFor(target, { alertType: 'hang', severity: 'critical' }),
        );
        const incident = temporal.client.workflow.getHandle<typeof incidentWorkflow>(opened.workflowId);
        await waitFor('awaiting approval', async () =>
          (await incident.query(statusQuery)).status === 'AWAITING_APPROVAL' ? true : undefined,
        );
        return opened.workflowId;
      },
    );
    // The operator switches the central worker to dry-run (the host's worker is not), and a storm makes the
    // waiting incident continue as new on it.
    const dry = testSettings({ historyEventsLimit: 60, dryRun: true });
    await withIncidentWorker(
      temporal,
      {
        taskQueue,
        activities: buildActivities(supervisor, undefined, undefined, dry, { hostDryRun: false }).activities,
        settings: dry,
        supervisor,
      },
      async () => {
        const incident = temporal.client.workflow.getHandle<typeof incidentWorkflow>(workflowId);
        const firstRun = (await incident.describe()).runId;
        const repeat = (i: number): Alert =>
          alertFor(target, { alertType: 'hang', deliveryId: `storm-${i}` });
        for (let i = 0; i < 60; i++) await incident.signal(alertSignal, repeat(i));
        await waitFor('the incident to continue as new', async () =>
          (await incident.describe()).runId !== firstRun ? true : undefined,
        );
        await incident.signal(approveSignal, { by: 'alice' });
        const result = await incident.result();

        expect(result.dryRun).toBe(true);
        expect(result.actions.map((a) => a.outcome)).toEqual(['would-restart']);
        expect((await supervisor.inspect(target))?.startedAt).toBe(before?.startedAt);
      },
    );
  });

  it('a host worker in dry-run touches nothing, though the incident was not told', async () => {
    const target = `host-dry-run-${Date.now()}`;
    const { supervisor } = await superviseDemoApp({ name: target });
    const settings = testSettings({ dryRun: false });
    await withIncidentWorker(
      temporal,
      {
        taskQueue: uniqueTaskQueue('host-dry-run'),
        activities: buildActivities(supervisor, undefined, undefined, settings, { hostDryRun: true })
          .activities,
        settings,
        supervisor,
      },
      async (gateway) => {
        const before = await supervisor.inspect(target);
        const { workflowId } = await gateway.openOrJoin(alertFor(target));
        const result = await temporal.client.workflow.getHandle<typeof incidentWorkflow>(workflowId).result();

        expect(result.actions).toEqual([
          expect.objectContaining({
            outcome: 'would-restart',
            detail: expect.stringContaining('dry run on this worker'),
          }),
        ]);
        expect(result.status).toBe('ESCALATED');
        expect((await supervisor.inspect(target))?.startedAt).toBe(before?.startedAt);
      },
    );
  });
});
