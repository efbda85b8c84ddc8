// Whether Medic may act alone. Pure: the incident workflow calls this directly.

import type { Risk } from './remedies.js';
import { defaultNumber, defaultText } from './settings-table.js';
import type { Diagnosis, RemediationAction, Severity } from './types.js';

/**
 * What a restart at a severity needs:
 * - `record`: record the incident, do nothing;
 * - `auto`: act alone within the guard's limits;
 * - `notify`: act alone within the limits, and tell people it happened;
 * - `approval`: always ask a person first.
 * Outside the limits (cooldown, hourly limit, breaker, budgets), `auto` and `notify` ask a person too.
 */
export type SeverityRule = 'record' | 'auto' | 'notify' | 'approval';
const RULES: readonly SeverityRule[] = ['record', 'auto', 'notify', 'approval'];

export interface ApprovalPolicy {
  /** The medium-risk remedies' table (a restart): MEDIC_SEVERITY_POLICY. */
  severity: Record<Severity, SeverityRule>;
  /** The low- and high-risk remedies' tables (MEDIC_SEVERITY_POLICY_LOW_RISK, _HIGH_RISK); absent: the defaults. */
  byRisk?: Partial<Record<'low' | 'high', Record<Severity, SeverityRule>>>;
  /** A diagnosis less confident than this needs approval, whatever the severity (0: never). */
  minConfidence?: number;
}

export const DEFAULT_MIN_CONFIDENCE = defaultNumber('MEDIC_MIN_CONFIDENCE');

/** By default, low-risk service actions act alone from medium severity; rollbacks and memory raises ask. */
export const DEFAULT_RISK_POLICY: Record<'low' | 'high', Record<Severity, SeverityRule>> = {
  low: severityRules(defaultText('MEDIC_SEVERITY_POLICY_LOW_RISK'), {} as Record<Severity, SeverityRule>),
  high: severityRules(defaultText('MEDIC_SEVERITY_POLICY_HIGH_RISK'), {} as Record<Severity, SeverityRule>),
};

export const DEFAULT_APPROVAL_POLICY: ApprovalPolicy = {
  // The table's default names every severity.
  severity: severityRules(defaultText('MEDIC_SEVERITY_POLICY'), {} as Record<Severity, SeverityRule>),
  byRisk: DEFAULT_RISK_POLICY,
  minConfidence: DEFAULT_MIN_CONFIDENCE,
};

/** Outcomes after which the same fix is never applied alone again until it works once more. */
const FAILED_OUTCOMES: ReadonlyArray<string> = ['failed', 'did-not-stick'];

/** Why this action must not run unattended because it already failed for the same signature. */
export function knownFailure(diagnosis: Pick<Diagnosis, 'action' | 'knownFix'>): string | undefined {
  const fix = diagnosis.knownFix;
  if (!fix || fix.action !== diagnosis.action || !fix.lastOutcome) return undefined;
  if (!FAILED_OUTCOMES.includes(fix.lastOutcome)) return undefined;
  const where = fix.lastIncidentId ? ` in incident ${fix.lastIncidentId}` : '';
  const note = fix.lastNote ? ` (${fix.lastNote})` : '';
  return `${diagnosis.action} already ${fix.lastOutcome === 'failed' ? 'failed' : 'did not stick'} for this error signature${where}${note}; runbook ${fix.fixId} has ${fix.stats.resolved} resolved, ${fix.stats.failed} failed`;
}

export type PolicyDecision =
  | { kind: 'auto'; notify: boolean; reason: string }
  | { kind: 'approval'; reason: string }
  | { kind: 'escalate'; reason: string }
  | { kind: 'record'; reason: string }
  | { kind: 'none'; reason: string };

export interface PolicyContext {
  /** Set when the same fault came back after a fix: the fix did not stick. */
  recurrence?: string;
  /** The sender's severity word when Medic does not know it: never acted on alone. */
  unrecognisedSeverity?: string;
}

/** A plan step as the policy sees it: its remedy's name, risk and words (domain/remedies.ts). */
export interface PolicyStep {
  name: RemediationAction;
  risk: Risk;
  /** A reason a person must agree whatever the table says (a memory raise without a cap). */
  needsPerson?: string;
}

/** The risk of a remedy the catalogue was not asked about (a decision recorded before plans). */
export function defaultRisk(action: RemediationAction): Risk {
  if (action === 'ROLLBACK' || action === 'RAISE_MEMORY') return 'high';
  if (action === 'NOOP' || action === 'ESCALATE') return 'low';
  return 'medium';
}

/** The rule for a remedy of `risk` at `severity`: the medium-risk table is MEDIC_SEVERITY_POLICY's. */
export function ruleFor(policy: ApprovalPolicy, risk: Risk, severity: Severity): SeverityRule | undefined {
  const table = risk === 'medium' ? policy.severity : (policy.byRisk?.[risk] ?? DEFAULT_RISK_POLICY[risk]);
  // Own properties only: a severity such as `__proto__` must find no rule, and no rule means a person.
  return Object.hasOwn(table, severity) ? table[severity] : undefined;
}

const WHAT: Record<string, string> = {
  RESTART: 'restart',
  ROLLBACK: 'rollback',
  RAISE_MEMORY: 'memory raise',
};
const whatOf = (name: RemediationAction) =>
  WHAT[name] ?? `${name.replace(/^ACTION:/, '')} (a service action)`;

export function decideRemediation(
  diagnosis: Pick<Diagnosis, 'action' | 'justification' | 'observed' | 'confidence' | 'knownFix'>,
  severity: Severity,
  policy: ApprovalPolicy,
  context: PolicyContext = {},
  step: PolicyStep = { name: diagnosis.action, risk: defaultRisk(diagnosis.action) },
): PolicyDecision {
  if (!diagnosis.observed.exists) {
    return { kind: 'escalate', reason: `target ${diagnosis.observed.name} does not exist on the engine` };
  }
  if (!diagnosis.observed.managed) {
    return {
      kind: 'escalate',
      reason: `target ${diagnosis.observed.name} is not managed by Medic (missing the managed label)`,
    };
  }
  if (step.name === 'ESCALATE')
    return { kind: 'escalate', reason: `diagnosis asks for a human: ${diagnosis.justification}` };
  if (step.name === 'NOOP')
    return { kind: 'none', reason: `diagnosis found nothing to do: ${diagnosis.justification}` };
  const what = whatOf(step.name);
  const rule = ruleFor(policy, step.risk, severity);
  if (rule === 'record' && !context.unrecognisedSeverity) {
    return { kind: 'record', reason: `${severity} severity is recorded only, by policy; nothing was done` };
  }
  // Every reason that stops an unattended action is given, so the approver sees all of them.
  const reasons: string[] = [];
  const failedBefore = knownFailure({ ...diagnosis, action: step.name });
  if (failedBefore)
    reasons.push(`not ${step.name === 'RESTART' ? 'restarting' : 'acting'} automatically: ${failedBefore}`);
  if (context.recurrence) reasons.push(`the previous fix did not stick (${context.recurrence})`);
  const minConfidence = policy.minConfidence ?? 0;
  if (diagnosis.confidence < minConfidence) {
    reasons.push(
      `diagnosis confidence ${diagnosis.confidence} is below the approval threshold ${minConfidence}`,
    );
  }
  if (context.unrecognisedSeverity) {
    reasons.push(
      `the alert's severity "${context.unrecognisedSeverity}" is not one Medic knows (low, medium, high, critical), so a person decides`,
    );
  } else if (rule === undefined) {
    reasons.push(`the policy has no rule for ${severity} severity, so a person decides`);
  }
  if (step.needsPerson) reasons.push(`${what}: ${step.needsPerson}`);
  const risk = step.risk === 'medium' ? '' : ` (${step.risk} risk)`;
  if (rule === 'approval')
    reasons.push(`${what}${risk} at ${severity} severity always needs approval by policy`);
  if (reasons.length > 0) return { kind: 'approval', reason: reasons.join('; ') };
  return {
    kind: 'auto',
    notify: rule === 'notify',
    reason: `${what}${risk} at ${severity} severity is automatic within limits by policy${rule === 'notify' ? ', with a notification' : ''}`,
  };
}

/** Parses `low=record,medium=auto,high=notify,critical=approval`; unspecified severities keep `base`. */
export function parseSeverityPolicy(
  text: string,
  base: Record<Severity, SeverityRule> = DEFAULT_APPROVAL_POLICY.severity,
): Record<Severity, SeverityRule> {
  return severityRules(text, base);
}

function severityRules(text: string, base: Record<Severity, SeverityRule>): Record<Severity, SeverityRule> {
  const severity = { ...base };
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, value] = part.split('=').map((s) => s.trim());
    if (key !== 'low' && key !== 'medium' && key !== 'high' && key !== 'critical') {
      throw new Error(`unknown severity "${key}" in "${part}" (expected low, medium, high or critical)`);
    }
    if (!RULES.includes(value as SeverityRule)) {
      throw new Error(`unknown rule "${value}" for ${key} (expected ${RULES.join(', ')})`);
    }
    severity[key] = value as SeverityRule;
  }
  return severity;
}
