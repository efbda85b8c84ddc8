import { describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL_POLICY, decideRemediation, parseSeverityPolicy } from '../../src/domain/policy.js';
import type { Diagnosis } from '../../src/domain/types.js';

const managed = { name: 'svc', exists: true, managed: true };
const diagnosis = (action: Diagnosis['action'], observed = managed) => ({
  action,
  justification: 'because',
  confidence: 0.9,
  observed,
});

describe('decideRemediation', () => {
  it('restarts a medium-severity incident without asking, by default', () => {
    expect(decideRemediation(diagnosis('RESTART'), 'medium', DEFAULT_APPROVAL_POLICY).kind).toBe('auto');
    expect(decideRemediation(diagnosis('RESTART'), 'low', DEFAULT_APPROVAL_POLICY).kind).toBe('auto');
  });

  it('asks for approval at high and critical severity, and says why', () => {
    for (const severity of ['high', 'critical'] as const) {
      const decision = decideRemediation(diagnosis('RESTART'), severity, DEFAULT_APPROVAL_POLICY);
      expect(decision.kind).toBe('approval');
      expect(decision.reason).toContain(severity);
    }
  });

  it('follows a configured policy', () => {
    const policy = parseSeverityPolicy('medium=approval,high=auto');
    expect(decideRemediation(diagnosis('RESTART'), 'medium', policy).kind).toBe('approval');
    expect(decideRemediation(diagnosis('RESTART'), 'high', policy).kind).toBe('auto');
    expect(decideRemediation(diagnosis('RESTART'), 'critical', policy).kind).toBe('approval');
  });

  it('escalates when the diagnosis asks for a person, and does nothing for NOOP', () => {
    expect(decideRemediation(diagnosis('ESCALATE'), 'low', DEFAULT_APPROVAL_POLICY).kind).toBe('escalate');
    expect(decideRemediation(diagnosis('NOOP'), 'critical', DEFAULT_APPROVAL_POLICY).kind).toBe('none');
  });

  it('never acts on a target that is missing or not managed, whatever the severity', () => {
    const missing = decideRemediation(
      diagnosis('RESTART', { name: 'x', exists: false, managed: false }),
      'low',
      DEFAULT_APPROVAL_POLICY,
    );
    expect(missing).toMatchObject({ kind: 'escalate' });
    expect(missing.reason).toContain('does not exist');
    const unmanaged = decideRemediation(
      diagnosis('RESTART', { name: 'temporal', exists: true, managed: false }),
      'low',
      DEFAULT_APPROVAL_POLICY,
    );
    expect(unmanaged).toMatchObject({ kind: 'escalate' });
    expect(unmanaged.reason).toContain('not managed');
  });
});

describe('parseSeverityPolicy', () => {
  it('keeps defaults for severities it does not mention', () => {
    expect(parseSeverityPolicy('').severity).toEqual(DEFAULT_APPROVAL_POLICY.severity);
    expect(parseSeverityPolicy(' low = approval ').severity.low).toBe('approval');
  });

  it('rejects unknown severities and rules with a helpful message', () => {
    expect(() => parseSeverityPolicy('urgent=auto')).toThrow(/unknown severity "urgent"/);
    expect(() => parseSeverityPolicy('high=sometimes')).toThrow(/expected auto or approval/);
  });
});

describe('decideRemediation: confidence and what the runbook knows', () => {
  const knownFix = (lastOutcome: 'resolved' | 'failed' | 'did-not-stick') => ({
    fixId: 'fix-svc-bad-config-1234',
    action: 'RESTART' as const,
    enabled: true,
    trusted: lastOutcome === 'resolved',
    stats: { resolved: 0, failed: 1, rejected: 0, didNotStick: 0 },
    lastOutcome,
    lastIncidentId: 'run-1',
    lastNote: 'still unhealthy after 3 checks',
    standing: 'failed last time',
  });

  it('asks for approval below the confidence threshold, whatever the severity', () => {
    const decision = decideRemediation(
      { ...diagnosis('RESTART'), confidence: 0.3 },
      'low',
      DEFAULT_APPROVAL_POLICY,
    );
    expect(decision.kind).toBe('approval');
    expect(decision.reason).toContain('confidence 0.3 is below the approval threshold 0.5');
    expect(
      decideRemediation({ ...diagnosis('RESTART'), confidence: 0.3 }, 'low', {
        ...DEFAULT_APPROVAL_POLICY,
        minConfidence: 0.2,
      }).kind,
    ).toBe('auto');
  });

  it('never repeats alone a fix that failed (or did not stick) for the same signature, and says why', () => {
    for (const outcome of ['failed', 'did-not-stick'] as const) {
      const decision = decideRemediation(
        { ...diagnosis('RESTART'), knownFix: knownFix(outcome) },
        'low',
        DEFAULT_APPROVAL_POLICY,
      );
      expect(decision.kind).toBe('approval');
      expect(decision.reason).toContain('not restarting automatically');
      expect(decision.reason).toContain('run-1');
      expect(decision.reason).toContain('fix-svc-bad-config-1234');
    }
    // Once it worked again, the fix is trusted again.
    expect(
      decideRemediation(
        { ...diagnosis('RESTART'), knownFix: knownFix('resolved') },
        'low',
        DEFAULT_APPROVAL_POLICY,
      ).kind,
    ).toBe('auto');
  });

  it('gives every reason at once', () => {
    const decision = decideRemediation(
      { ...diagnosis('RESTART'), confidence: 0.2, knownFix: knownFix('failed') },
      'critical',
      DEFAULT_APPROVAL_POLICY,
    );
    expect(decision.reason.split('; ').length).toBeGreaterThanOrEqual(3);
  });
});
