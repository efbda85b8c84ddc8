// On the real dev server: the worker that runs the workflows owns the safety settings.
// An operator who sets dry-run on the worker alone gets dry runs, whatever the API that started the
// incident was configured with, and the incident says that the two differ.
import { describe, expect, it } from 'vitest';
import type { incidentWorkflow } from '../../src/workflows/incident/story.js';
import { alertFor, buildActivities, superviseDemoApp, testSettings } from '../support/medic.js';
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
});
