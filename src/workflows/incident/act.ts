// The act step, with the permit in hand: in a dry run only say what would happen; otherwise carry out the
// plan (patch `remedy-plans`: each step done, verified, undone when it did not heal, the next decided again),
// or, for incidents planned before plans, restart the target (compare-and-act on the start time seen at
// diagnosis) and verify its health with backoff; the lease goes back with the outcome. It ends the pass:
// healed, failed, or escalated.
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { AvailableRemedy } from '../../domain/remedies.js';
import type { Diagnosis } from '../../domain/types.js';
import type { PermitDesk } from '../permit.js';
import { isPatched } from '../versions.js';
import { resolvedAndHealthy } from './ask.js';
import { decideStep } from './decide.js';
import { raiseDependents } from './dependents.js';
import type { Desks } from './desks.js';
import { describeFailure } from './failures.js';
import { currentStep, noteStep, stepWords } from './plan.js';
import { leaveTarget } from './question.js';
import { remedyStep } from './remedy.js';
import {
  failRemediation,
  giveLeaseBack,
  noteLease,
  type PlanStep,
  restartAndVerify,
  restartStep,
} from './restart.js';
import type { IncidentRun } from './run.js';
import { type Decided, type DiagnoseAgain, type Ending, ended } from './types.js';

const nowIso = () => new Date().toISOString();

export async function act(
  run: IncidentRun,
  desks: Desks,
  diagnosis: Diagnosis,
  requestId: string,
): Promise<Ending | DiagnoseAgain> {
  const { state } = run;
  if (run.dryRun && state.plan) return dryRunPlan(run, desks.permits, diagnosis, requestId);
  if (run.dryRun) {
    const detail = `dry run: would restart ${state.target} (${diagnosis.rootCause}); nothing was touched`;
    state.actions.push({ action: 'RESTART', at: nowIso(), outcome: 'would-restart', detail });
    run.record('would-restart', detail);
    await desks.permits.release(requestId, 'not-acted');
    return { kind: 'escalated', reason: detail };
  }
  if (run.resolvedBySender && (await resolvedAndHealthy(run))) {
    await desks.permits.release(requestId, 'not-acted');
    return { kind: 'recovered-by-itself' };
  }
  // Incidents planned before plans (no `plan` in their state) restart, as they always did.
  if (state.plan) return carryOutPlan(run, desks, diagnosis, requestId);
  return restartAndVerify(run, desks.permits, diagnosis, requestId);
}

/**
 * The plan, step by step, holding the target's lease: each step is done and verified; the first that heals
 * ends the pass healed, one that does not is undone (if it has an inverse) and the lease goes back as
 * `step-done` (the guard keeps the target for the next step, without a cooldown, while it counts the
 * action), and the next step is decided with fresh evidence, by its own risk. After the last step, FAILED
 * with every step's outcome.
 */
async function carryOutPlan(
  run: IncidentRun,
  desks: Desks,
  diagnosis: Diagnosis,
  requestId: string,
): Promise<Ending | DiagnoseAgain> {
  const { state } = run;
  const tried: string[] = [];
  let proposal = diagnosis;
  let permit = requestId;
  for (;;) {
    const step = currentStep(run, proposal);
    const plan = state.plan;
    const last = !plan || plan.at >= plan.steps.length - 1;
    run.acting = true;
    const result =
      step.name === 'RESTART'
        ? await restartStep(run, desks.permits, proposal, permit, { last, words: stepWords(run, step) })
        : await otherStep(run, desks.permits, proposal, permit, step);
    if (result.kind === 'stop') {
      if (result.step) noteStep(run, step, result.step.outcome, result.step.detail);
      return result.result;
    }
    if (result.kind === 'healed') {
      noteStep(run, step, 'healed', state.verification?.detail ?? 'healthy');
      await giveLeaseBack(run, desks.permits, permit, result.counted ? 'succeeded' : 'not-acted');
      if (step.name === 'RESTART' && result.counted && isPatched('restart-dependents'))
        await raiseDependents(run);
      return { kind: 'healed', diagnosis: proposal, restarted: result.counted };
    }
    const outcome = result.undone ? 'undone' : result.failed ? 'failed' : 'not-healed';
    noteStep(
      run,
      step,
      outcome,
      result.undone ? `${result.reason}; undone: ${result.undone}` : result.reason,
    );
    tried.push(`${step.name}: ${result.reason}${result.undone ? ' (undone)' : ''}`);
    if (last) {
      const reason =
        tried.length > 1 ? `every step of the plan was tried: ${tried.join('; ')}` : result.reason;
      const lease = {
        requestId: permit,
        outcome: result.counted ? ('failed' as const) : ('not-acted' as const),
      };
      return failRemediation(run, desks.permits, diagnosis, lease, reason);
    }
    await giveLeaseBack(run, desks.permits, permit, result.counted ? 'step-done' : 'not-acted');
    if (plan) plan.at += 1;
    const next = await nextStep(run, desks, proposal);
    if (next.kind === 'ended') return next.ending;
    if (next.kind === 'diagnose-again') return next;
    proposal = next.diagnosis;
    permit = next.requestId;
  }
}

/** A step that did not heal: the next one is decided again, by its own risk, on a fresh look at the target. */
async function nextStep(run: IncidentRun, desks: Desks, diagnosis: Diagnosis): Promise<Decided> {
  const { state } = run;
  const step = state.plan?.steps[state.plan.at];
  if (!step) throw new Error('a plan went past its last step');
  run.record('next-step', `${stepWords(run, step)}: the step before did not heal ${state.target}`);
  // No lease is held until the next one is granted; `acting` stays: a sender's `resolved` now says nothing
  // of what Medic did.
  run.leaseActed = false;
  const observed = await freshLook(run);
  // The next step compares against what the target is now: without a fresh look it would act on stale facts.
  if (!observed)
    return ended({
      kind: 'escalated',
      reason: `could not look at ${state.target} again before ${stepWords(run, step)}`,
    });
  if (state.diagnosis) state.diagnosis.observed = observed;
  const proposal = { ...diagnosis, observed, action: step.name };
  const decided = await decideStep(run, desks, proposal, {}, step);
  // A later step weighed "record only" (or nothing to do) after earlier steps acted is no healing.
  if (decided.kind === 'ended' && decided.ending.kind === 'nothing-to-do')
    return ended({
      kind: 'escalated',
      reason: `${stepWords(run, step)}: ${decided.ending.reason}; the steps before did not heal ${state.target}`,
    });
  return decided;
}

/** What the target's host shows now (its start time, image, limit); undefined when it cannot be had. */
async function freshLook(run: IncidentRun): Promise<Diagnosis['observed'] | undefined> {
  const { state } = run;
  if (!run.routes) return undefined;
  try {
    const evidence = await run.activities.gatherEvidence.executeWithOptions(
      { summary: `look at ${state.target} again before the next step` },
      [{ target: state.target, alertType: state.alertType, severity: state.severity, logs: [] }],
    );
    return evidence.observed;
  } catch (err) {
    if (isCancellation(err)) throw err;
    run.record('evidence-failed', `could not look at ${state.target} again: ${describeFailure(err)}`);
    return undefined;
  }
}

/** A dry run of the plan: every step is recorded as what it would have done, and nothing is touched. */
async function dryRunPlan(
  run: IncidentRun,
  permits: PermitDesk,
  diagnosis: Diagnosis,
  requestId: string,
): Promise<Ending> {
  const { state } = run;
  const plan = state.plan;
  const steps = plan ? plan.steps.slice(plan.at) : [];
  const onlyRestart = steps.length === 1 && steps[0]?.name === 'RESTART';
  const detail = onlyRestart
    ? `dry run: would restart ${state.target} (${diagnosis.rootCause}); nothing was touched`
    : `dry run: would try ${steps.map((s) => s.words).join(', then ')} (${diagnosis.rootCause}); nothing was touched`;
  for (const step of steps) {
    const position = { step: (plan?.at ?? 0) + 1, of: plan?.steps.length ?? 1 };
    const outcome = step.name === 'RESTART' ? 'would-restart' : 'would-have';
    const words = `dry run: would ${stepWords(run, step)}`;
    state.actions.push({ action: step.name, at: nowIso(), outcome, detail: words, ...position });
    noteStep(run, step, 'would-have', words);
    if (plan && plan.at < plan.steps.length - 1) plan.at += 1;
  }
  run.record(onlyRestart ? 'would-restart' : 'would-have', detail);
  await permits.release(requestId, 'not-acted');
  return { kind: 'escalated', reason: detail };
}

/** A remedy other than a restart (remedy.ts), with what its endings mean for the lease. */
async function otherStep(
  run: IncidentRun,
  permits: PermitDesk,
  diagnosis: Diagnosis,
  requestId: string,
  step: AvailableRemedy,
): Promise<PlanStep> {
  noteLease(run, { grantedAt: nowIso() });
  const result = await remedyStep(run, diagnosis, step);
  if (result.kind === 'dry-run') {
    // The host's worker is in dry-run, whatever this incident was told: it ends as a dry run does.
    await giveLeaseBack(run, permits, requestId, 'not-acted');
    return {
      kind: 'stop',
      result: { kind: 'escalated', reason: result.detail },
      step: { outcome: 'would-have', detail: result.detail },
    };
  }
  if (result.kind === 'engine-away') {
    // Whether a request reached the engine before it went away is unknown: counted, as a failure.
    await giveLeaseBack(run, permits, requestId, 'failed');
    return {
      kind: 'stop',
      result: { kind: 'escalated', reason: result.reason },
      step: { outcome: 'failed', detail: result.reason },
    };
  }
  return result;
}

/**
 * Cancelled (by a person, from the Web UI or CLI) while holding a lease: give it back, or the target
 * stays blocked until the lease expires and the guard counts a failure.
 */
export async function givingBackTheLease(
  run: IncidentRun,
  desks: Desks,
  pass: () => Promise<Ending>,
): Promise<Ending> {
  try {
    return await pass();
  } catch (err) {
    const lease = desks.permits.heldLease();
    if (isCancellation(err) && lease) {
      // A plan knows whether its current lease acted; before plans, the status said so.
      const acted = run.state.plan ? run.leaseActed : ['REMEDIATING', 'VERIFYING'].includes(run.state.status);
      await CancellationScope.nonCancellable(() =>
        desks.permits.release(lease, acted ? 'failed' : 'not-acted'),
      );
    }
    // Its question goes with it: the guard hands the next asker the question, and tells those who joined.
    if (isCancellation(err) && run.askedGuard)
      await CancellationScope.nonCancellable(() => leaveTarget(run, desks.permits.guardId, false));
    throw err;
  }
}
