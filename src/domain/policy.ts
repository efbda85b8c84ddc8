// Whether Medic may act alone. Pure: the incident workflow calls this directly.
import type { Diagnosis, Severity } from './types.js';

export type SeverityRule = 'auto' | 'approval';

export interface ApprovalPolicy {
  /** What a restart at each severity needs. */
  severity: Record<Severity, SeverityRule>;
  /** A diagnosis less confident than this needs approval, whatever the severity (0: never). */
  minConfidence?: number;
}

export const DEFAULT_MIN_CONFIDENCE = 0.5;

export const DEFAULT_APPROVAL_POLICY: ApprovalPolicy = {
  severity: { low: 'auto', medium: 'auto', high: 'approval', critical: 'approval' },
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
  | { kind: 'auto'; reason: string }
  | { kind: 'approval'; reason: string }
  | { kind: 'escalate'; reason: string }
  | { kind: 'none'; reason: string };

export function decideRemediation(
  diagnosis: Pick<Diagnosis, 'action' | 'justification' | 'observed' | 'confidence' | 'knownFix'>,
  severity: Severity,
  policy: ApprovalPolicy,
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
      // Every reason that stops an unattended restart is given, so the approver sees all of them.
      const reasons: string[] = [];
      const failedBefore = knownFailure(diagnosis);
      if (failedBefore) reasons.push(`not restarting automatically: ${failedBefore}`);
      const minConfidence = policy.minConfidence ?? 0;
      if (diagnosis.confidence < minConfidence) {
        reasons.push(
          `diagnosis confidence ${diagnosis.confidence} is below the approval threshold ${minConfidence}`,
        );
      }
      if (policy.severity[severity] === 'approval') {
        reasons.push(`restart at ${severity} severity needs approval by policy`);
      }
      return reasons.length > 0
        ? { kind: 'approval', reason: reasons.join('; ') }
        : { kind: 'auto', reason: `restart at ${severity} severity is automatic by policy` };
    }
  }
}

/** Parses `low=auto,medium=auto,high=approval,critical=approval`; unspecified severities keep the default. */
export function parseSeverityPolicy(text: string): ApprovalPolicy {
  const severity = { ...DEFAULT_APPROVAL_POLICY.severity };
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, value] = part.split('=').map((s) => s.trim());
    if (key !== 'low' && key !== 'medium' && key !== 'high' && key !== 'critical') {
      throw new Error(`unknown severity "${key}" in "${part}" (expected low, medium, high or critical)`);
    }
    if (value !== 'auto' && value !== 'approval') {
      throw new Error(`unknown rule "${value}" for ${key} (expected auto or approval)`);
    }
    severity[key] = value;
  }
  return { severity, minConfidence: DEFAULT_MIN_CONFIDENCE };
}
