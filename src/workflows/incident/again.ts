// Deciding again: an incident that asked a person only because a limit stood in the way (a cooldown, the
// hourly limit, the budget's window) runs the policy again when the limit ends; if it may now act alone, it
// acts and withdraws its question. A person can still decide first; a breaker keeps waiting for one.
import type { Refusal } from '../../domain/guard.js';
import { decideRemediation } from '../../domain/policy.js';
import type { TargetNews } from '../../domain/target-desk.js';
import type { Diagnosis } from '../../domain/types.js';
import { isPatched } from '../versions.js';
import { noteDecision } from './decision-record.js';
import type { Desks } from './desks.js';
import { incidentMetrics } from './metrics.js';
import { policyStep } from './plan.js';
import { tell } from './record.js';
import type { IncidentRun } from './run.js';
import type { Decided } from './types.js';

export async function decideAgain(
  run: IncidentRun,
  desks: Desks,
  diagnosis: Diagnosis,
): Promise<
  | { kind: 'permitted'; requestId: string; decided: Extract<Decided, { kind: 'permitted' }>; detail: string }
  | { kind: 'acted-meanwhile'; news: Extract<TargetNews, { kind: 'restarted' }> }
  | { kind: 'wait'; limitEndsAtMs: number | undefined }
> {
  const { state, settings } = run;
  const previous = state.decisions?.at(-1);
  const context = {
    ...(previous?.recurrence ? { recurrence: previous.recurrence } : {}),
    ...(state.unrecognisedSeverity ? { unrecognisedSeverity: state.unrecognisedSeverity } : {}),
  };
  // A plan's step is weighed by its own risk, as it was when it was asked.
  const step = state.plan?.steps[state.plan.at];
  const policy = decideRemediation(
    diagnosis,
    state.severity,
    settings.policy,
    context,
    ...(step && step.name === diagnosis.action ? [policyStep(step)] : []),
  );
  const decision = noteDecision(run, diagnosis, policy, context);
  decision.decidedAgain = true;
  if (step && step.name === diagnosis.action && (state.plan?.steps.length !== 1 || step.name !== 'RESTART'))
    Object.assign(decision, { step: (state.plan?.at ?? 0) + 1, risk: step.risk });
  const limit = state.approval?.limitEndsAt;
  if (policy.kind !== 'auto') {
    run.record('decided-again', `the limit ended at ${limit}, but ${policy.reason}: a person decides`);
    return { kind: 'wait', limitEndsAtMs: undefined };
  }
  const permit = await run.timed('decide', () => desks.permits.acquire());
  if (!permit.ok) {
    incidentMetrics.denied(permit.refusal);
    Object.assign(decision, { outcome: 'asked', permitDenied: permit.reason });
    const { refusal } = permit;
    if (refusal.kind === 'acted-meanwhile' && refusal.by) {
      // Another incident acted on the target while this one waited in line: look, do not ask again.
      Object.assign(decision, { outcome: 'recorded', actedMeanwhile: true });
      run.record('decided-again', `${refusal.by} acted on ${state.target} meanwhile: checking it`);
      const at = new Date().toISOString();
      return { kind: 'acted-meanwhile', news: { kind: 'restarted', at, by: refusal.by } };
    }
    run.record('decided-again', `still outside the limits: ${permit.reason}`);
    return { kind: 'wait', limitEndsAtMs: limitThatEnds(refusal) };
  }
  const detail = `decided again: the limit it waited for ended at ${limit}; acting without a person`;
  run.record('decided-again', detail);
  const decided = { kind: 'permitted' as const, requestId: permit.requestId, diagnosis };
  return { kind: 'permitted', requestId: permit.requestId, decided, detail };
}

/** The decided-again action goes ahead: the question is withdrawn and the approval says why nobody decided. */
export function actingWithoutPerson(run: IncidentRun, detail: string): void {
  const { state } = run;
  state.approval = {
    required: false,
    reason: detail,
    ...(state.approval?.with ? { with: state.approval.with } : {}),
  };
}

/**
 * The question no longer needs anyone: the people told of it hear so (an incoming webhook cannot take a
 * message back), and the console drops its card as the incident leaves AWAITING_APPROVAL.
 */
export async function withdrawQuestion(run: IncidentRun, why: string): Promise<void> {
  const { state } = run;
  if (state.status !== 'AWAITING_APPROVAL' || state.approval?.joined) return;
  const first = run.settings.escalation.levels[0];
  // No decision is taken while people are told (the status changes after): the question is going.
  run.withdrawing = true;
  try {
    await tell(run, 'approval-withdrawn', 'info', `${state.workflowId} no longer needs anyone`, why, first);
  } finally {
    run.withdrawing = false;
  }
}

/** A refusal whose limit ends by itself (not a breaker, which a person resets): the incident decides again then. */
export function limitThatEnds(refusal: Refusal): number | undefined {
  if (!refusal.until || !['cooldown', 'hourly-limit', 'budget'].includes(refusal.kind)) return undefined;
  const at = Date.parse(refusal.until);
  return Number.isFinite(at) && isPatched('decide-again') ? at : undefined;
}
