// An incident's plan: the remedies it tries, cheapest first, each verified, until one heals the target. It is
// put together from what Medic knows, in this order: a rollback when the fault came soon after an image
// change (a bad deploy), the step that healed this signature before (the runbook), the plan the target
// declares for this alert type (its labels), the model's proposal, and the rules' default. Every step must be
// in the target's catalogue (domain/remedies.ts): anything else is refused, with the reason, and the rest of
// the plan still stands. Pure.
import {
  type AvailableRemedy,
  type catalogueFor,
  parseBytes,
  REMEDY_LABELS,
  type RemedyContext,
  remedyName,
} from './remedies.js';
import type { Diagnosis, RemediationAction, TargetObservation } from './types.js';

/** More steps than this is not a plan but a guess: the rest is left to a person. */
export const MAX_PLAN_STEPS = 4;

export interface Plan {
  steps: AvailableRemedy[];
  /** Proposed steps the target does not have, each with why. */
  refused: string[];
  /** Where each step came from, in words (the timeline's `planned` entry). */
  from: string[];
}

/** What the target's catalogue is decided from, as the diagnosis observed it. */
export function remedyContext(
  observed: TargetObservation,
  settings: { memoryMax?: string } = {},
): RemedyContext {
  const labels = observed.labels ?? {};
  const cap = parseBytes(labels[REMEDY_LABELS.memoryMax]) ?? parseBytes(settings.memoryMax);
  return {
    labels,
    capabilities: observed.capabilities ?? ['restart'],
    ...(observed.imageId
      ? {
          image: {
            id: observed.imageId,
            ...(observed.previousHealthyImage ? { previousHealthy: observed.previousHealthyImage } : {}),
          },
        }
      : {}),
    memory: {
      ...(observed.memoryLimitBytes ? { limitBytes: observed.memoryLimitBytes } : {}),
      ...(cap ? { capBytes: cap } : {}),
    },
  };
}

/** How long before the first alert the image changed, when it changed to one never verified healthy. */
export function imageChangedAgoMs(observed: TargetObservation, firstAlertAtMs: number): number | undefined {
  const previous = observed.previousHealthyImage;
  if (!observed.imageId || !previous || previous.id === observed.imageId || !observed.createdAt)
    return undefined;
  const created = Date.parse(observed.createdAt);
  return Number.isFinite(created) ? Math.max(0, firstAlertAtMs - created) : undefined;
}

/** Remedies that are no step of a plan: a plan of one of them is the diagnosis's word alone. */
const FINAL: readonly RemediationAction[] = ['NOOP', 'ESCALATE'];

/** The default plans of the rules, by alert type, after what the diagnosis proposed. */
const DEFAULTS: Record<string, RemediationAction[]> = {
  oom: ['RAISE_MEMORY', 'RESTART'],
};

export function planFor(input: {
  alertType: string;
  diagnosis: Pick<Diagnosis, 'action' | 'source' | 'knownFix' | 'observed'> & { plan?: RemediationAction[] };
  catalogue: ReturnType<typeof catalogueFor>;
  /** How long before the first alert the image changed, and the deploy window (MEDIC_DEPLOY_WINDOW). */
  deploy?: { changedAgoMs?: number; windowMs: number };
  /** A recurrence: the plan starts after the step that healed last time (it did not hold). */
  after?: RemediationAction;
}): Plan {
  const { diagnosis, catalogue } = input;
  // Nothing to do is nothing to do. A hand-over to a person still tries what the evidence itself points to
  // (a recent image change) or the target declares for this alert: with none, a person has it.
  if (diagnosis.action === 'NOOP') return single('NOOP', catalogue, `the ${diagnosis.source}`);
  const handOver = diagnosis.action === 'ESCALATE';
  const proposals: Array<{ name: RemediationAction | string; from: string }> = [];
  const deploy = input.deploy;
  if (deploy?.changedAgoMs !== undefined && deploy.changedAgoMs <= deploy.windowMs) {
    const minutes = Math.round(deploy.changedAgoMs / 60_000);
    proposals.push({ name: 'ROLLBACK', from: `the image changed ${minutes} min before the fault` });
  }
  const fix = diagnosis.knownFix;
  if (fix?.trusted && fix.enabled && !handOver)
    proposals.push({ name: fix.action, from: `the runbook (${fix.fixId})` });
  const declared = diagnosis.observed.labels?.[`${REMEDY_LABELS.planPrefix}${input.alertType}`];
  for (const name of (declared ?? '').split(',').filter((n) => n.trim()))
    proposals.push({ name, from: `the target's label ${REMEDY_LABELS.planPrefix}${input.alertType}` });
  const model = diagnosis.source === 'gemini' || diagnosis.source === 'ollama';
  if (model) {
    for (const name of diagnosis.plan ?? [diagnosis.action])
      proposals.push({ name, from: `the model (${diagnosis.source})` });
  }
  // The rules' plan for the alert type, or what the rules (or the runbook) diagnosed.
  if (!handOver) {
    for (const name of DEFAULTS[input.alertType] ?? [diagnosis.action, 'RESTART'])
      proposals.push({ name, from: model ? 'the rules' : `the ${diagnosis.source}` });
  }

  const plan: Plan = { steps: [], refused: [], from: [] };
  for (const { name: text, from } of proposals) {
    const name = remedyName(text);
    if (!name) {
      plan.refused.push(`${JSON.stringify(text.slice(0, 60))} (from ${from}) is not a remedy name`);
      continue;
    }
    if (FINAL.includes(name) || plan.steps.some((s) => s.name === name)) continue;
    const remedy = catalogue.get(name);
    if (!remedy) {
      plan.refused.push(`${name} (from ${from}) is not in this target's catalogue`);
      continue;
    }
    plan.steps.push(remedy);
    plan.from.push(`${name} from ${from}`);
  }
  if (input.after) {
    const healedAt = plan.steps.findIndex((s) => s.name === input.after);
    if (healedAt >= 0 && healedAt < plan.steps.length - 1) {
      plan.refused.push(`${input.after} healed this last time and did not hold: starting after it`);
      plan.steps = plan.steps.slice(healedAt + 1);
      plan.from = plan.from.slice(healedAt + 1);
    }
  }
  if (plan.steps.length > MAX_PLAN_STEPS) {
    plan.refused.push(
      ...plan.steps.slice(MAX_PLAN_STEPS).map((s) => `${s.name}: more than ${MAX_PLAN_STEPS} steps`),
    );
    plan.steps = plan.steps.slice(0, MAX_PLAN_STEPS);
    plan.from = plan.from.slice(0, MAX_PLAN_STEPS);
  }
  if (plan.steps.length === 0) {
    const why = handOver ? `the ${diagnosis.source}` : 'no remedy this target has';
    return { ...single('ESCALATE', catalogue, why), refused: plan.refused };
  }
  return plan;
}

function single(name: RemediationAction, catalogue: ReturnType<typeof catalogueFor>, from: string): Plan {
  const remedy = catalogue.get(name) ?? { name, risk: 'low' as const, words: name, precondition: 'none' };
  return { steps: [remedy], refused: [], from: [`${name} from ${from}`] };
}
