// The decide step: the policy (severity x confidence x what the runbook knows) says whether Medic may act
// alone; acting alone needs the permit (the target's lease and a unit of the global budget), and anything
// else, a refused permit included, is a question to a person (ask.ts). A refusal whose limit ends by itself
// is asked with that end: the incident decides again then (again.ts).
import { decideRemediation } from '../../domain/policy.js';
import type { AvailableRemedy } from '../../domain/remedies.js';
import type { DecisionRecord, Diagnosis } from '../../domain/types.js';
import { noticeWithoutWaiting } from '../legacy/acting-notice.js';
import { isPatched } from '../versions.js';
import { limitThatEnds } from './again.js';
import { askPerson, restartedMeanwhile } from './ask.js';
import { noteDecision } from './decision-record.js';
import type { Desks } from './desks.js';
import { checkHealthNow } from './health.js';
import { incidentMetrics } from './metrics.js';
import { planIncident, planOnly, policyStep, stepWords } from './plan.js';
import { tell } from './record.js';
import type { IncidentRun } from './run.js';
import { type Decided, ended } from './types.js';

export async function decide(
  run: IncidentRun,
  desks: Desks,
  diagnosed: Diagnosis,
  recurrence?: string,
): Promise<Decided> {
  const { state } = run;
  const decidedFrom = {
    ...(recurrence ? { recurrence } : {}),
    ...(state.unrecognisedSeverity ? { unrecognisedSeverity: state.unrecognisedSeverity } : {}),
  };
  // The plan's first step is what the policy weighs and a person is asked about.
  if (!isPatched('remedy-plans')) return decideStep(run, desks, diagnosed, decidedFrom);
  const diagnosis = planIncident(run, diagnosed, recurrence);
  const step = run.state.plan?.steps[0];
  return decideStep(run, desks, diagnosis, decidedFrom, step);
}

/**
 * One decision: the plan's first step (from `decide`), or its next one after a step that did not heal
 * (act.ts), which the policy weighs again by its own risk.
 */
export async function decideStep(
  run: IncidentRun,
  desks: Desks,
  diagnosis: Diagnosis,
  decidedFrom: { recurrence?: string; unrecognisedSeverity?: string },
  step?: AvailableRemedy,
): Promise<Decided> {
  const { state, settings } = run;
  const policy = decideRemediation(
    diagnosis,
    state.severity,
    settings.policy,
    decidedFrom,
    ...(step ? [policyStep(step)] : []),
  );
  const decision = noteDecision(run, diagnosis, policy, decidedFrom);
  const plan = state.plan;
  if (step && plan && (plan.steps.length > 1 || step.name !== 'RESTART'))
    Object.assign(decision, {
      step: plan.at + 1,
      risk: step.risk,
      ...(step.needsPerson ? { needsPerson: step.needsPerson } : {}),
    });
  if (policy.kind === 'escalate') return ended({ kind: 'escalated', reason: policy.reason });
  if (policy.kind === 'none' && isPatched('verify-before-resolved')) {
    return nothingToDoIfHealthy(run, desks, diagnosis, policy.reason, decision);
  }
  if (policy.kind === 'none' || policy.kind === 'record') {
    state.approval = { required: false, reason: policy.reason };
    return ended({ kind: 'nothing-to-do', reason: policy.reason });
  }
  let decided: Decided;
  if (policy.kind === 'auto') {
    state.approval = { required: false, reason: policy.reason };
    const permit = await run.timed('decide', () => desks.permits.acquire());
    if (permit.ok) {
      run.notePhase('approve', 0);
      decided = { kind: 'permitted', requestId: permit.requestId, diagnosis };
    } else {
      incidentMetrics.denied(permit.refusal);
      Object.assign(decision, { outcome: 'asked', permitDenied: permit.reason });
      const { refusal } = permit;
      if (refusal.kind === 'acted-meanwhile' && refusal.by) {
        // Another incident acted on the target while this one waited in line: look, do not ask.
        Object.assign(decision, { outcome: 'recorded', actedMeanwhile: true });
        const at = new Date().toISOString();
        decided = await restartedMeanwhile(run, diagnosis, { kind: 'restarted', at, by: refusal.by });
      } else {
        const limit = limitThatEnds(refusal);
        decided = await askPerson(run, desks, diagnosis, `outside the limits: ${permit.reason}`, { limit });
      }
    }
  } else {
    decided = await askPerson(run, desks, diagnosis, policy.reason);
  }
  if (decided.kind === 'permitted' && policy.kind === 'auto' && policy.notify && !state.approval?.decidedBy) {
    const doing = step && step.name !== 'RESTART' ? stepWords(run, step) : `restarting ${state.target}`;
    const telling = tell(run, 'acting', 'info', doing, `${state.workflowId}: ${policy.reason}`);
    await noticeWithoutWaiting(telling);
  }
  return decided;
}

/**
 * A model's NOOP is taken only for a target that is healthy: otherwise a person decides, shown the NOOP and
 * the evidence, with what the rules would do as the proposal (approve: do it; reject: leave it as it is).
 */
async function nothingToDoIfHealthy(
  run: IncidentRun,
  desks: Desks,
  diagnosis: Diagnosis,
  reason: string,
  decision: DecisionRecord,
): Promise<Decided> {
  const health = await checkHealthNow(run);
  if (health.healthy) {
    run.state.approval = { required: false, reason: `${reason}; ${health.detail}` };
    return ended({ kind: 'nothing-to-do', reason: `${reason}; ${health.detail}` });
  }
  const rules = diagnosis.rulesProposal ?? { action: 'RESTART' as const, rootCause: diagnosis.rootCause };
  const unhealthy = `the diagnosis (${diagnosis.source}) proposes nothing, but ${run.state.target} is not healthy (${health.detail})`;
  if (
    (rules.action === 'NOOP' || rules.action === 'ESCALATE') &&
    isPatched('noop-without-proposal-escalates')
  ) {
    Object.assign(decision, { outcome: 'escalated', unhealthyNoop: true });
    return ended({ kind: 'escalated', reason: `${unhealthy}, and the rules propose nothing to do either` });
  }
  Object.assign(decision, { outcome: 'asked', unhealthyNoop: true });
  const why = `${unhealthy}; the rules propose ${rules.action} (${rules.rootCause})`;
  if (isPatched('remedy-plans')) planOnly(run, diagnosis, rules.action);
  return askPerson(run, desks, { ...diagnosis, action: rules.action }, why);
}
