// One incident's story. It opens on the first alert, checks that the target may be touched, and runs a
// pass: diagnose, decide (maybe asking a person), act and verify. Every pass ends in finish.ts, the one place
// that closes an incident; after Medic's own fix it watches for the same fault coming back, which reopens
// it for another pass. Deterministic: every side effect is an activity, time is the workflow's clock.
import type { IncidentState } from '../../domain/types.js';
import { ApprovalDesk } from '../approval.js';
import { keepDryRun } from '../legacy/dry-run.js';
import { PermitDesk } from '../permit.js';
import { act, givingBackTheLease } from './act.js';
import { absorbWhileRefused, admitTarget, openOnFirstAlert } from './admit.js';
import { askPerson, resolvedAndHealthy } from './ask.js';
import { decide } from './decide.js';
import type { Desks } from './desks.js';
import { diagnoseTarget } from './diagnose.js';
import { finish } from './finish.js';
import { proposing } from './plan.js';
import { reopen, watchForRecurrence } from './recurrence.js';
import { IncidentRun } from './run.js';
import type { Ending, IncidentWorkflowInput, ResumePoint } from './types.js';
import { adoptWorkerSettings } from './worker-settings.js';

export type { IncidentWorkflowInput } from './types.js';

export async function incidentWorkflow(input: IncidentWorkflowInput): Promise<IncidentState> {
  const run = new IncidentRun(input);
  const desks = { approvals: new ApprovalDesk(run), permits: new PermitDesk(run) };
  run.listen();
  desks.approvals.listen();
  desks.permits.listen();
  if (input.refused) return absorbWhileRefused(run);
  await adoptWorkerSettings(run);
  if (input.resume) keepDryRun(run);
  const waiting = input.resume?.waiting;
  if (waiting?.for === 'recurrence') return healUntilItSticks(run, desks, waiting);
  const ending = waiting ? await resumeAwaitingDecision(run, desks, waiting) : await firstPass(run, desks);
  return healUntilItSticks(run, desks, ending);
}

async function firstPass(run: IncidentRun, desks: Desks): Promise<Ending> {
  await openOnFirstAlert(run);
  const admitted = await admitTarget(run);
  if (admitted.kind === 'ended') return admitted.ending;
  if (run.resolvedBySender && (await resolvedAndHealthy(run))) return { kind: 'recovered-by-itself' };
  return remediate(run, desks);
}

/**
 * One pass: diagnose, decide, act and verify. A target that changed under the incident (restarted by
 * someone else, and still failing) is diagnosed again, with fresh evidence.
 */
function remediate(run: IncidentRun, desks: Desks, recurrence?: string): Promise<Ending> {
  return givingBackTheLease(run, desks, async () => {
    for (;;) {
      const diagnosed = await diagnoseTarget(run);
      if (diagnosed.kind === 'ended') return diagnosed.ending;
      if (run.resolvedBySender && (await resolvedAndHealthy(run))) return { kind: 'recovered-by-itself' };
      const decided = await decide(run, desks, diagnosed.diagnosis, recurrence);
      if (decided.kind === 'ended') return decided.ending;
      const acted =
        decided.kind === 'permitted' ? await act(run, desks, decided.diagnosis, decided.requestId) : decided;
      if (acted.kind !== 'diagnose-again') return acted;
      run.record('diagnosing-again', acted.reason);
    }
  });
}

/** A pass carried over by continue-as-new while it waited for a person: the diagnosis is the state's. */
function resumeAwaitingDecision(
  run: IncidentRun,
  desks: Desks,
  wait: Extract<ResumePoint, { for: 'decision' }>,
): Promise<Ending> {
  return givingBackTheLease(run, desks, async () => {
    const diagnosed = run.state.diagnosis;
    if (!diagnosed) throw new Error('an incident resumed awaiting a decision carries no diagnosis');
    // The question was about the plan's current step (patch `remedy-plans`), or, before plans, a restart.
    const diagnosis = proposing(diagnosed, run.state.plan);
    const decided = await askPerson(run, desks, diagnosis, wait.reason, { resumed: wait });
    if (decided.kind === 'ended') return decided.ending;
    const acted =
      decided.kind === 'permitted' ? await act(run, desks, decided.diagnosis, decided.requestId) : decided;
    // Still failing after a restart made meanwhile: a new pass looks again, with fresh evidence.
    return acted.kind === 'diagnose-again' ? remediate(run, desks) : acted;
  });
}

/**
 * Ends the pass, then, after Medic's own fix, watches for the same alert; a recurrence reopens the incident
 * for another pass. `from` is the pass's ending, or the watch a carried-over run resumes.
 */
async function healUntilItSticks(
  run: IncidentRun,
  desks: Desks,
  from: Ending | Extract<ResumePoint, { for: 'recurrence' }>,
): Promise<IncidentState> {
  let watch = 'for' in from ? from : undefined;
  let ending = 'for' in from ? undefined : from;
  for (;;) {
    if (ending) {
      await finish(run, desks, ending);
      if (ending.kind === 'refused') return absorbWhileRefused(run);
      const fixedByMedic = ending.kind === 'healed' && ending.restarted;
      if (!fixedByMedic || run.settings.recurrenceWindowMs <= 0) return run.state;
    }
    const recurrence = await watchForRecurrence(run, watch);
    watch = undefined;
    if (!recurrence) return run.state;
    await reopen(run, recurrence);
    ending = await remediate(run, desks, recurrence);
  }
}
