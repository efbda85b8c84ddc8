// The worker that runs the workflows owns the safety settings (dry-run, severity table, limits, budgets):
// the starter's, captured by the API or the watcher, only show where they differ. Incidents that began
// before this rule keep the settings they started with.
import { proxyLocalActivities } from '@temporalio/workflow';
import type { MedicActivities } from '../../activities/index.js';
import { isPatched } from '../versions.js';
import { incidentActivities } from './activities.js';
import type { IncidentRun } from './run.js';

export async function adoptWorkerSettings(run: IncidentRun): Promise<void> {
  if (!isPatched('settings-from-worker')) return;
  const { workerIncidentSettings } = proxyLocalActivities<MedicActivities>({
    startToCloseTimeout: '10s',
    retry: { maximumAttempts: 5, initialInterval: '1s' },
  });
  const { settings, differing } = await workerIncidentSettings({
    workflowId: run.state.workflowId,
    starter: run.input.settings,
  });
  run.settings = settings;
  run.activities = incidentActivities(settings, run.routes, run.waitsForEngine);
  if (differing.length > 0) {
    const keys = differing.join(', ');
    run.record('settings-differ', `the starter's ${keys} differ from the worker's; the worker's apply`);
  }
}
