// A restarted target's dependents (patch `restart-dependents`): the containers that declare
// `medic.depends-on=<target>` and fail after Medic's restart healed it become incidents of their own.
import { isCancellation } from '@temporalio/workflow';
import { describeFailure } from './failures.js';
import type { IncidentRun } from './run.js';

/**
 * After Medic's restart healed the target: the containers that declare `medic.depends-on=<target>` and fail
 * now are raised as incidents of their own (`dependency-failed`), each restarted, if at all, by its own
 * incident and counted by its own guard. Best effort: it never changes how this incident ends.
 */
export async function raiseDependents(run: IncidentRun): Promise<void> {
  const { state } = run;
  try {
    const raised = await run.activities.raiseDependents.executeWithOptions(
      { summary: `look for ${state.target}'s unhealthy dependents (medic.depends-on)` },
      [{ target: state.target, restartedBy: state.workflowId }],
    );
    for (const d of raised)
      run.record(
        'dependent-raised',
        d.workflowId ? `${d.name}: ${d.detail} (incident ${d.workflowId})` : `${d.name}: ${d.problem}`,
      );
  } catch (err) {
    if (isCancellation(err)) throw err;
    run.record(
      'dependents-failed',
      `could not look for ${state.target}'s dependents: ${describeFailure(err)}`,
    );
  }
}
