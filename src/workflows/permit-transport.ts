// How the permit's commands reach the guard and the budget: the signals, with the payloads built from the
// incident's settings when they are sent, and the start of either as a child that outlives the incident.
import {
  ApplicationFailure,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  startChild,
} from '@temporalio/workflow';
import { leaseTtlMs } from '../domain/incident.js';
import type { SignalCommand, StartCommand } from '../domain/permit.js';
import { budgetWorkflow } from './budget.js';
import { guardWorkflow } from './guard.js';
import type { IncidentRun } from './incident/run.js';
import {
  budgetRefundSignal,
  budgetRequestSignal,
  leaseReleaseSignal,
  leaseRequestSignal,
} from './messages.js';

interface Ids {
  guardId: string;
  budgetId: string;
}

export function signalFor(run: IncidentRun, ids: Ids, command: SignalCommand): Promise<void> {
  const guard = getExternalWorkflowHandle(ids.guardId);
  const budget = getExternalWorkflowHandle(ids.budgetId);
  if (command.kind === 'release') {
    const { requestId, outcome } = command;
    return guard.signal(leaseReleaseSignal, { requestId, outcome });
  }
  if (command.kind === 'refund') return budget.signal(budgetRefundSignal, { requestId: command.requestId });
  const { requestId, approvedBy } = command;
  const by = approvedBy ? { approvedBy } : {};
  const incidentWorkflowId = run.state.workflowId;
  if (command.to === 'lease') {
    return guard.signal(leaseRequestSignal, {
      requestId,
      incidentWorkflowId,
      action: 'RESTART',
      dryRun: run.dryRun,
      // From the settings in force when asked: the worker's, once the incident adopted them.
      limits: { ...run.settings.guard, leaseTtlMs: leaseTtlMs(run.settings) },
      ...by,
    });
  }
  return budget.signal(budgetRequestSignal, {
    requestId,
    incidentWorkflowId,
    target: run.state.target,
    dryRun: run.dryRun,
    limits: run.settings.budget,
    ...by,
  });
}

/** Guards are long-lived and shared; whoever needs one first starts it, and it outlives the incident. */
export function startFor(run: IncidentRun, ids: Ids, command: StartCommand): Promise<unknown> {
  const { target } = run.state;
  if (command.which === 'lease') {
    return startChild(guardWorkflow, {
      ...childOptions(ids.guardId),
      staticSummary: `guard · ${target}: one action at a time, cooldown, hourly limit, breaker`,
      args: [{ target }],
    });
  }
  return startChild(budgetWorkflow, {
    ...childOptions(ids.budgetId),
    staticSummary: 'budget · restarts per hour and per day across all targets',
    args: [{}],
  });
}

/** A signal to a workflow id with no running workflow fails so (the SDK gives no error class of its own). */
export const notFound = (err: unknown) =>
  err instanceof ApplicationFailure && /not ?found/i.test(`${err.type ?? ''} ${err.message}`);

export const alreadyStarted = (err: unknown) =>
  err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError';

const childOptions = (workflowId: string) => ({ workflowId, parentClosePolicy: ParentClosePolicy.ABANDON });
