// The one place a pass of an incident ends: its ending becomes the closing status, the runbook's record of
// the outcome, the notification and the metrics, always in this order per ending (replayed histories
// depend on it). `npm run check:workflows` fails when anything else in src/workflows closes an incident.

import { getExternalWorkflowHandle, isCancellation, workflowInfo } from '@temporalio/workflow';
import type { IncidentState, IncidentStatus } from '../../domain/types.js';
import { sweeperWorkflowId } from '../../domain/watch-ids.js';
import { forgetAnomalySignal } from '../messages.js';
import { isPatched } from '../versions.js';
import type { Desks } from './desks.js';
import { describeFailure } from './failures.js';
import { incidentMetrics } from './metrics.js';
import { leaveTarget } from './question.js';
import { learn, tell } from './record.js';
import type { IncidentRun } from './run.js';
import type { Ending } from './types.js';

export async function finish(run: IncidentRun, desks: Desks, ending: Ending): Promise<IncidentState> {
  await close(run, ending);
  // After the closing, so that a history that reached the closing replays its commands as they were.
  await leaveTarget(run, desks.permits.guardId, ending.kind === 'escalated' && ending.unanswered === true);
  if (sweepMayRaiseAgain(run, ending)) await letTheSweepRaiseItAgain(run);
  return run.state;
}

/** Endings after which the target was seen healthy (or needs nothing): the sweep has nothing to raise again. */
const VERIFIED: ReadonlySet<Ending['kind']> = new Set([
  'healed',
  'healed-by-other',
  'recovered-by-itself',
  'nothing-to-do',
]);

/**
 * After a failure, or a question nobody answered, the anomaly may be raised again. Not after a rejection (a
 * person said leave it), a dry run or a refusal: the next sweep would ask again, and again. Nor after an
 * escalation that ended at once (nothing to propose, diagnosis failed, target not Medic's): a person was
 * told, and raising it again would escalate again at every sweep. Older histories raised it after every
 * ending that did not see the target healthy, then after every failure and escalation.
 */
function sweepMayRaiseAgain(run: IncidentRun, ending: Ending): boolean {
  if (VERIFIED.has(ending.kind)) return false;
  if (run.state.evidence?.via !== 'sweep') return false;
  if (!isPatched('sweep-raises-again-after-failure')) return true;
  if (!(ending.kind === 'failed' || ending.kind === 'escalated') || run.dryRun) return false;
  if (ending.kind === 'failed' || !isPatched('sweep-raises-again-unanswered')) return true;
  return ending.unanswered === true;
}

async function close(run: IncidentRun, ending: Ending): Promise<IncidentState> {
  const { state } = run;
  switch (ending.kind) {
    case 'healed': {
      await learn(run, ending.diagnosis, 'resolved');
      closeAs(run, 'RESOLVED', `${state.target} is healthy again`);
      if (isPatched('notify-outcomes')) {
        const healedBy = state.plan ? state.steps?.at(-1) : undefined;
        const how =
          healedBy?.outcome === 'healed' && healedBy.remedy !== 'RESTART'
            ? `${healedBy.words}: healthy again: ${state.verification?.detail}`
            : ending.restarted
              ? `restarted and healthy again: ${state.verification?.detail}`
              : 'healthy again';
        await tell(run, 'resolved', 'info', `${state.target} resolved`, `${state.workflowId}: ${how}`);
      }
      return state;
    }
    case 'healed-by-other': {
      const by = ending.by ? `the restart of ${ending.by}` : 'a restart Medic did not make';
      closeAs(
        run,
        'RESOLVED',
        `${state.target} is healthy again, healed by ${by}; Medic took no action of its own`,
      );
      await tell(
        run,
        'resolved',
        'info',
        `${state.target} resolved`,
        `${state.workflowId}: healthy again after ${by}`,
      );
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

/**
 * The sweep reports an anomaly once; an incident it opened that ended without the target seen healthy lets it
 * report the anomaly again, should it still be there.
 */
async function letTheSweepRaiseItAgain(run: IncidentRun): Promise<void> {
  const evidence = run.state.evidence;
  if (evidence?.via !== 'sweep' || !isPatched('sweep-raises-again')) return;
  const sweeper = sweeperWorkflowId(workflowInfo().taskQueue, run.host);
  try {
    await getExternalWorkflowHandle(sweeper).signal(forgetAnomalySignal, {
      target: run.state.target,
      check: evidence.check,
    });
    run.record('sweep-told', `${sweeper} may raise the ${evidence.check} anomaly again`);
  } catch (err) {
    if (isCancellation(err)) throw err;
    run.record('sweep-not-told', `${sweeper}: ${describeFailure(err)}`);
  }
}
