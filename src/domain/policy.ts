// Whether Medic may act alone. Pure: the incident workflow calls this directly.
import { defaultNumber, defaultText } from './settings-table.js';
import type { Diagnosis, Severity } from './types.js';

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
  severity: Record<Severity, SeverityRule>;
  /** A diagnosis less confident than this needs approval, whatever the severity (0: never). */
  minConfidence?: number;
}

export const DEFAULT_MIN_CONFIDENCE = defaultNumber('MEDIC_MIN_CONFIDENCE');

export const DEFAULT_APPROVAL_POLICY: ApprovalPolicy = {
  // The table's default names every severity.
  severity: severityRules(defaultText('MEDIC_SEVERITY_POLICY'), {} as Record<Severity, SeverityRule>),
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

export function decideRemediation(
  diagnosis: Pick<Diagnosis, 'action' | 'justification' | 'observed' | 'confidence' | 'knownFix'>,
  severity: Severity,
  policy: ApprovalPolicy,
  context: PolicyContext = {},
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
  switch (diagnosis.action) {
    case 'ESCALATE':
      return { kind: 'escalate', reason: `diagnosis asks for a human: ${diagnosis.justification}` };
    case 'NOOP':
      return { kind: 'none', reason: `diagnosis found nothing to do: ${diagnosis.justification}` };
    case 'RESTART': {
      // Own properties only: a severity such as `__proto__` must find no rule, and no rule means a person.
      const rule = Object.hasOwn(policy.severity, severity) ? policy.severity[severity] : undefined;
      if (rule === 'record' && !context.unrecognisedSeverity) {
        return {
          kind: 'record',
          reason: `${severity} severity is recorded only, by policy; nothing was done`,
        };
      }
      // Every reason that stops an unattended restart is given, so the approver sees all of them.
      const reasons: string[] = [];
      const failedBefore = knownFailure(diagnosis);
      if (failedBefore) reasons.push(`not restarting automatically: ${failedBefore}`);
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
      if (rule === 'approval')
        reasons.push(`restart at ${severity} severity always needs approval by policy`);
      if (reasons.length > 0) return { kind: 'approval', reason: reasons.join('; ') };
      return {
        kind: 'auto',
        notify: rule === 'notify',
        reason: `restart at ${severity} severity is automatic within limits by policy${rule === 'notify' ? ', with a notification' : ''}`,
      };
    }
  }
}

/** Parses `low=record,medium=auto,high=notify,critical=approval`; unspecified severities keep the default. */
export function parseSeverityPolicy(text: string): Record<Severity, SeverityRule> {
  return severityRules(text, DEFAULT_APPROVAL_POLICY.severity);
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
