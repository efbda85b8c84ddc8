// A run carried over by continue-as-new keeps the dry-run of either side: its own, or the worker's. Before
// patch `dry-run-holds` it kept only its own, so a worker switched to dry-run meanwhile still acted.
import type { IncidentRun } from '../incident/run.js';
import { isPatched } from '../versions.js';

export function keepDryRun(run: IncidentRun): void {
  if (run.dryRun || !run.settings.dryRun || !isPatched('dry-run-holds')) return;
  run.dryRun = true;
  run.state.dryRun = true;
  run.record('dry-run', 'dry run: this worker runs dry, so from now on nothing is touched');
}
