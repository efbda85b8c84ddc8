// The one place a pass of an incident ends: its ending becomes the closing status, the runbook's record of
// the outcome, the notification and the metrics, always in this order per ending (replayed histories
// depend on it). `npm run check:workflows` fails when anything else in src/workflows closes an incident.
import type { IncidentState, IncidentStatus } from '../../domain/types.js';
import { isPatched } from '../versions.js';
import { incidentMetrics } from './metrics.js';
import { learn, tell } from './record.js';
import type { IncidentRun } from './run.js';
import type { Ending } from './types.js';

export async function finish(run: IncidentRun, ending: Ending): Promise<IncidentState> {
  const { state } = run;
  switch (ending.kind) {
    case 'healed': {
      await learn(run, ending.diagnosis, 'resolved');
      closeAs(run, 'RESOLVED', `${state.target} is healthy again`);
      if (isPatched('notify-outcomes')) {
        const how = ending.restarted
          ? `restarted and healthy again: ${state.verification?.detail}`
          : 'healthy again';
        await tell(run, 'resolved', 'info', `${state.target} resolved`, `${state.workflowId}: ${how}`);
      }
      return state;
    }
    case 'failed':
      await learn(run, ending.diagnosis, 'failed', ending.reason);
      await tell(run, 'failed', 'critical', `incident ${state.workflowId} failed`, ending.reason);
      return closeAs(run, 'FAILED', ending.reason);
    case 'rejected': {
      const { by, comment } = ending;
      await learn(run, ending.diagnosis, 'rejected', `rejected by ${by}`);
      closeAs(run, 'REJECTED', `rejected by ${by}; the container was not touched`);
      if (isPatched('notify-outcomes')) {
        const why = `rejected by ${by}${comment ? `: ${comment}` : ''}; the container was not touched`;
        await tell(
          run,
          'rejected',
          'info',
          `${state.target}: restart rejected`,
          `${state.workflowId}: ${why}`,
        );
      }
      return state;
    }
    case 'escalated':
    case 'refused':
      return escalate(run, ending.reason);
    case 'recovered-by-itself':
      return closeAs(
        run,
        'RESOLVED',
        `recovered by itself: ${run.resolvedBySender?.source} reported the alert resolved before Medic acted; no action taken`,
      );
    case 'nothing-to-do':
      return closeAs(run, 'RESOLVED', ending.reason);
  }
}

/** Hands the incident to the last level of the ladder and ends it ESCALATED. */
async function escalate(run: IncidentRun, reason: string): Promise<IncidentState> {
  const last = run.settings.escalation.levels.at(-1);
  await tell(
    run,
    'needs-person',
    'critical',
    `incident ${run.state.workflowId} needs a person`,
    reason,
    last,
  );
  return closeAs(run, 'ESCALATED', reason);
}

function closeAs(run: IncidentRun, status: IncidentStatus, detail: string): IncidentState {
  run.setStatus(status, detail);
  run.state.closedAt = new Date().toISOString();
  incidentMetrics.closed(run.state);
  return run.state;
}
