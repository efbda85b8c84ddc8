// The incident's plan (patch `remedy-plans`): which remedies it tries, in order, put together by domain/plan.ts
// from what the diagnosis saw (the image change, the runbook's fix, the target's labels, the model, the rules)
// and checked against the target's catalogue. The plan lives in the state, so a run carried over by
// continue-as-new, or a worker that died, goes on at the step it was at. Deterministic: pure functions of
// the state and the settings.
import { imageChangedAgoMs, planFor, remedyContext } from '../../domain/plan.js';
import type { PolicyStep } from '../../domain/policy.js';
import { type AvailableRemedy, catalogueFor } from '../../domain/remedies.js';
import { defaultMs, defaultNumber, defaultText } from '../../domain/settings-table.js';
import type { Diagnosis, PlanState, PlanStepRecord, RemediationAction } from '../../domain/types.js';
import type { IncidentRun } from './run.js';

const nowIso = () => new Date().toISOString();

function remedySettings(run: IncidentRun) {
  return (
    run.settings.remedies ?? {
      memoryRaiseFactor: defaultNumber('MEDIC_MEMORY_RAISE_FACTOR'),
      memoryMax: defaultText('MEDIC_MEMORY_MAX'),
      deployWindowMs: defaultMs('MEDIC_DEPLOY_WINDOW'),
    }
  );
}

function catalogue(run: IncidentRun, diagnosis: Diagnosis) {
  const settings = remedySettings(run);
  const context = remedyContext(diagnosis.observed, { memoryMax: settings.memoryMax });
  return catalogueFor(run.state.target, context, settings.memoryRaiseFactor);
}

/**
 * Plans the pass: the plan goes into the state and the timeline, and the diagnosis comes back proposing its
 * first step (what the policy decides and a person is asked about). A recurrence starts after the step that
 * healed last time.
 */
export function planIncident(run: IncidentRun, diagnosis: Diagnosis, recurrence?: string): Diagnosis {
  const { state } = run;
  const settings = remedySettings(run);
  const healedLast = recurrence
    ? state.steps?.filter((s) => s.outcome === 'healed').at(-1)?.remedy
    : undefined;
  const changedAgoMs = imageChangedAgoMs(diagnosis.observed, Date.parse(state.openedAt));
  const plan = planFor({
    alertType: state.alertType,
    diagnosis,
    catalogue: catalogue(run, diagnosis),
    deploy: { windowMs: settings.deployWindowMs, ...(changedAgoMs !== undefined ? { changedAgoMs } : {}) },
    ...(healedLast ? { after: healedLast } : {}),
  });
  state.plan = { ...plan, at: 0 };
  const names = plan.steps.map((s) => s.name).join(', then ');
  const refused = plan.refused.length > 0 ? `; refused: ${plan.refused.join('; ')}` : '';
  run.record('planned', `${names} (${plan.from.join('; ')})${refused}`);
  return proposing(diagnosis, state.plan);
}

/** The diagnosis, proposing the plan's current step. */
export function proposing(diagnosis: Diagnosis, plan: PlanState | undefined): Diagnosis {
  const step = plan?.steps[plan.at];
  return step && step.name !== diagnosis.action ? { ...diagnosis, action: step.name } : diagnosis;
}

/**
 * A person is asked about another action than the plan's (the rules' proposal when a model's NOOP meets an
 * unhealthy target): that action becomes the plan, one step, so an approval does what was shown.
 */
export function planOnly(run: IncidentRun, diagnosis: Diagnosis, action: RemediationAction): void {
  const plan = run.state.plan;
  if (!plan || plan.steps[plan.at]?.name === action) return;
  const remedy = catalogue(run, diagnosis).get(action) ?? fallbackRemedy(run, action);
  run.state.plan = {
    steps: [remedy],
    from: [`${action}, the action a person is asked about`],
    refused: [],
    at: 0,
  };
}

function fallbackRemedy(run: IncidentRun, action: RemediationAction): AvailableRemedy {
  return {
    name: action,
    risk: 'medium',
    words: `${action.toLowerCase()} ${run.state.target}`,
    precondition: 'none',
  };
}

/** The plan's current step, for a permitted diagnosis: its action is the step's. */
export function currentStep(run: IncidentRun, diagnosis: Diagnosis): AvailableRemedy {
  const plan = run.state.plan;
  const step = plan?.steps[plan.at];
  if (step && step.name === diagnosis.action) return step;
  // A decision recorded before the plan knew of it (resumed, or asked about the rules' proposal).
  planOnly(run, diagnosis, diagnosis.action);
  return run.state.plan?.steps[0] ?? fallbackRemedy(run, diagnosis.action);
}

/** A step as the policy weighs it. */
export function policyStep(step: AvailableRemedy): PolicyStep {
  return { name: step.name, risk: step.risk, ...(step.needsPerson ? { needsPerson: step.needsPerson } : {}) };
}

/** "step 2 of 3: restart payments", or just the words for a plan of one step. */
export function stepWords(run: IncidentRun, step: AvailableRemedy): string {
  const plan = run.state.plan;
  const of = plan?.steps.length ?? 1;
  return of > 1 ? `step ${(plan?.at ?? 0) + 1} of ${of}: ${step.words}` : step.words;
}

/** Records how the current step went, with the approval it was decided with (if a person was asked). */
export function noteStep(
  run: IncidentRun,
  step: AvailableRemedy,
  outcome: PlanStepRecord['outcome'],
  detail: string,
): void {
  const { state } = run;
  const plan = state.plan;
  const approval = state.approval?.required && state.approval.decision ? state.approval : undefined;
  const steps = state.steps ?? [];
  steps.push({
    step: (plan?.at ?? 0) + 1,
    of: plan?.steps.length ?? 1,
    remedy: step.name,
    risk: step.risk,
    words: step.words,
    ...(approval ? { approval: { ...approval } } : {}),
    outcome,
    detail,
    at: nowIso(),
  });
  // Bounded: a target that keeps failing must not grow the state without end.
  if (steps.length > 20) steps.splice(0, steps.length - 20);
  state.steps = steps;
}
