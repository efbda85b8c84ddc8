// Whether Medic may act alone. Pure: the incident workflow calls this directly.
import type { Diagnosis, Severity } from './types.js';

export type SeverityRule = 'auto' | 'approval';

export interface ApprovalPolicy {
  /** What a restart at each severity needs. */
  severity: Record<Severity, SeverityRule>;
}

export const DEFAULT_APPROVAL_POLICY: ApprovalPolicy = {
  severity: { low: 'auto', medium: 'auto', high: 'approval', critical: 'approval' },
};

export type PolicyDecision =
  | { kind: 'auto'; reason: string }
  | { kind: 'approval'; reason: string }
  | { kind: 'escalate'; reason: string }
  | { kind: 'none'; reason: string };

export function decideRemediation(
  diagnosis: Pick<Diagnosis, 'action' | 'justification' | 'observed'>,
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
      const rule = policy.severity[severity];
      return rule === 'auto'
        ? { kind: 'auto', reason: `restart at ${severity} severity is automatic by policy` }
        : { kind: 'approval', reason: `restart at ${severity} severity needs approval by policy` };
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
  return { severity };
}
