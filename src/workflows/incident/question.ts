// One question per target: before an incident asks a person, it asks its target's guard, which makes it
// follow the target (it hears of the target's restarts) and tells it who owns the target's question: itself,
// or the incident it joins instead of asking again. A decision on either incident of a joined question is
// passed on to the other. When the incident ends it tells the guard it no longer waits.
import { condition, getExternalWorkflowHandle, isCancellation } from '@temporalio/workflow';
import type { DeskMessage } from '../../domain/target-desk.js';
import type { Decision } from '../approval.js';
import { passedDecisionSignal, targetDeskSignal } from '../messages.js';
import { alreadyStarted, notFound, startFor } from '../permit-transport.js';
import { isPatched } from '../versions.js';
import { describeFailure } from './failures.js';
import type { IncidentRun } from './run.js';

/** How long the guard may take to say who owns the question; past it, the incident asks on its own. */
const OWNER_ANSWER_MS = 30_000;
/** How long past its longest wait an owner's question stands before the guard takes the owner for gone. */
const QUESTION_MARGIN_MS = 10 * 60_000;

/** The owner of the target's question (this incident's own id when it asks the people itself). */
export async function ownerOfQuestion(run: IncidentRun, guardId: string, proposed?: string): Promise<string> {
  const self = run.state.workflowId;
  if (!isPatched('one-question-per-target')) return self;
  run.askedGuard = true;
  const since = Date.now();
  const told = await tellGuard(run, guardId, {
    kind: 'ask',
    incidentWorkflowId: self,
    alertType: run.state.alertType,
    untilMs: since + run.settings.escalation.maxWaitMs + QUESTION_MARGIN_MS,
    // A plan's step other than a restart: only a question about the same remedy is joined.
    ...(run.state.plan && proposed && proposed !== 'RESTART' ? { proposed } : {}),
  });
  if (!told) return self;
  const answer = () => run.newsSince('question', since);
  await condition(() => answer() !== undefined, OWNER_ANSWER_MS, {
    summary: `ask ${guardId} who owns the question`,
  });
  const owner = answer();
  return owner?.owner ?? self;
}

/** The incident no longer waits on its target (it ended); `unanswered`: nobody decided its question. */
export async function leaveTarget(run: IncidentRun, guardId: string, unanswered: boolean): Promise<void> {
  if (!run.askedGuard) return;
  run.askedGuard = false;
  const message: DeskMessage = {
    kind: 'done',
    incidentWorkflowId: run.state.workflowId,
    ...(unanswered ? { unanswered } : {}),
  };
  await tellGuard(run, guardId, message);
}

/**
 * A decision on one incident of a joined question goes to the other(s); `via` names where it was taken.
 * Resolves with the incidents that could not be told (they ended).
 */
export async function passDecision(run: IncidentRun, decision: Decision): Promise<string[]> {
  const untold: string[] = [];
  const approval = run.state.approval;
  const others = [approval?.joined, ...run.joiners.map((w) => w.workflowId)].filter(
    (id): id is string => id !== undefined && id !== decision.via,
  );
  const { verdict, payload, channel } = decision;
  const passed = {
    verdict,
    by: payload.by,
    ...(payload.comment ? { comment: payload.comment } : {}),
    channel,
    via: run.state.workflowId,
  };
  await Promise.all(
    others.map(async (id) => {
      try {
        await getExternalWorkflowHandle(id).signal(passedDecisionSignal, passed);
        run.record('decision-passed', `${verdict} by ${payload.by} passed on to ${id}`);
      } catch (err) {
        if (isCancellation(err)) throw err;
        run.record('decision-not-passed', `${id} could not be told: ${describeFailure(err)}`);
        untold.push(id);
      }
    }),
  );
  return untold;
}

/** Signals the guard, starting it when it does not run yet; false when it could not be told. */
async function tellGuard(run: IncidentRun, guardId: string, message: DeskMessage): Promise<boolean> {
  const guard = getExternalWorkflowHandle(guardId);
  try {
    try {
      await guard.signal(targetDeskSignal, message);
    } catch (err) {
      if (!notFound(err) || message.kind !== 'ask') throw err;
      try {
        // Only the guard is started here (the budget's id is not needed for it).
        await startFor(run, { guardId, budgetId: '' }, { kind: 'start', which: 'lease' });
      } catch (startErr) {
        if (!alreadyStarted(startErr)) throw startErr;
      }
      await guard.signal(targetDeskSignal, message);
    }
    return true;
  } catch (err) {
    if (isCancellation(err)) throw err;
    run.record('guard-not-told', `${guardId}: ${describeFailure(err)}`);
    return false;
  }
}
