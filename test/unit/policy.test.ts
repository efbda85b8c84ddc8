import { describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL_POLICY, decideRemediation, parseSeverityPolicy } from '../../src/domain/policy.js';
import type { Diagnosis } from '../../src/domain/types.js';

const managed = { name: 'svc', exists: true, managed: true };
const diagnosis = (action: Diagnosis['action'], observed = managed, confidence = 0.9) => ({
  action,
  justification: 'because',
  observed,
  confidence,
});
const policy = DEFAULT_APPROVAL_POLICY;

describe('decideRemediation', () => {
  it('follows the default severity table: low records, medium acts, high acts and tells, critical asks', () => {
    expect(decideRemediation(diagnosis('RESTART'), 'low', policy).kind).toBe('record');
    expect(decideRemediation(diagnosis('RESTART'), 'medium', policy)).toMatchObject({
      kind: 'auto',
      notify: false,
    });
    expect(decideRemediation(diagnosis('RESTART'), 'high', policy)).toMatchObject({
      kind: 'auto',
      notify: true,
    });
    const critical = decideRemediation(diagnosis('RESTART'), 'critical', policy);
    expect(critical.kind).toBe('approval');
    expect(critical.reason).toContain('critical');
  });

  it('asks for approval when the diagnosis is not sure enough, whatever the severity', () => {
    const decision = decideRemediation(diagnosis('RESTART', managed, 0.3), 'medium', policy);
    expect(decision.kind).toBe('approval');
    expect(decision.reason).toContain('confidence 0.3 is below the approval threshold 0.5');
    expect(decideRemediation(diagnosis('RESTART', managed, 0.5), 'medium', policy).kind).toBe('auto');
  });

  it('asks for approval when the previous fix did not stick', () => {
    const decision = decideRemediation(diagnosis('RESTART'), 'medium', policy, {
      recurrence: 'the alert came back 40 s after the restart',
    });
    expect(decision.kind).toBe('approval');
    expect(decision.reason).toContain('did not stick');
  });

  it('follows a configured policy', () => {
    const configured = { ...policy, severity: parseSeverityPolicy('medium=approval,high=auto,low=notify') };
    expect(decideRemediation(diagnosis('RESTART'), 'medium', configured).kind).toBe('approval');
    expect(decideRemediation(diagnosis('RESTART'), 'high', configured)).toMatchObject({
      kind: 'auto',
      notify: false,
    });
    expect(decideRemediation(diagnosis('RESTART'), 'low', configured)).toMatchObject({
      kind: 'auto',
      notify: true,
    });
    expect(decideRemediation(diagnosis('RESTART'), 'critical', configured).kind).toBe('approval');
  });

  it('escalates when the diagnosis asks for a person, and does nothing for NOOP', () => {
    expect(decideRemediation(diagnosis('ESCALATE'), 'low', policy).kind).toBe('escalate');
    expect(decideRemediation(diagnosis('NOOP'), 'critical', policy).kind).toBe('none');
  });

  it('never acts on a target that is missing or not managed, whatever the severity', () => {
    const missing = decideRemediation(
      diagnosis('RESTART', { name: 'x', exists: false, managed: false }),
      'medium',
      policy,
    );
    expect(missing).toMatchObject({ kind: 'escalate' });
    expect(missing.reason).toContain('does not exist');
    const unmanaged = decideRemediation(
      diagnosis('RESTART', { name: 'temporal', exists: true, managed: false }),
      'medium',
      policy,
    );
    expect(unmanaged).toMatchObject({ kind: 'escalate' });
    expect(unmanaged.reason).toContain('not managed');
  });
});

describe('parseSeverityPolicy', () => {
  it('keeps defaults for severities it does not mention', () => {
    expect(parseSeverityPolicy('')).toEqual(DEFAULT_APPROVAL_POLICY.severity);
    expect(parseSeverityPolicy(' low = approval ').low).toBe('approval');
  });

  it('rejects unknown severities and rules with a helpful message', () => {
    expect(() => parseSeverityPolicy('urgent=auto')).toThrow(/unknown severity "urgent"/);
    expect(() => parseSeverityPolicy('high=sometimes')).toThrow(/expected record, auto, notify, approval/);
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
      'medium',
      DEFAULT_APPROVAL_POLICY,
    );
    expect(decision.kind).toBe('approval');
    expect(decision.reason).toContain('confidence 0.3 is below the approval threshold 0.5');
    expect(
      decideRemediation({ ...diagnosis('RESTART'), confidence: 0.3 }, 'medium', {
        ...DEFAULT_APPROVAL_POLICY,
        minConfidence: 0.2,
      }).kind,
    ).toBe('auto');
  });

  it('never repeats alone a fix that failed (or did not stick) for the same signature, and says why', () => {
    for (const outcome of ['failed', 'did-not-stick'] as const) {
      const decision = decideRemediation(
        { ...diagnosis('RESTART'), knownFix: knownFix(outcome) },
        'medium',
        DEFAULT_APPROVAL_POLICY,
      );
      expect(decision.kind).toBe('approval');
      expect(decision.reason).toContain('not restarting automatically');
      expect(decision.reason).toContain('run-1');
      expect(decision.reason).toContain('fix-svc-bad-config-1234');
    }
    // Once it worked again, the policy lets it act alone again.
    expect(
      decideRemediation(
        { ...diagnosis('RESTART'), knownFix: knownFix('resolved') },
        'medium',
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
