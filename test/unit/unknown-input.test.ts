// Unknown input never fails open. Severity words are looked up as own properties, a
// word Medic does not know means a person decides, and every signal payload is checked at the boundary.
import { describe, expect, it } from 'vitest';
import { mapAlertmanagerAlert, severityFromLabel } from '../../src/domain/alertmanager.js';
import {
  checkAlertPayload,
  checkBudgetRequest,
  checkDecisionPayload,
  checkLeaseRelease,
  checkLeaseRequest,
  checkPermitAnswer,
} from '../../src/domain/message-checks.js';
import { DEFAULT_APPROVAL_POLICY, decideRemediation } from '../../src/domain/policy.js';
import type { Diagnosis, Severity } from '../../src/domain/types.js';

const restart: Pick<Diagnosis, 'action' | 'justification' | 'observed' | 'confidence' | 'knownFix'> = {
  action: 'RESTART',
  justification: 'memory leak',
  confidence: 0.9,
  observed: { name: 'medic-demo', exists: true, managed: true },
};

describe('unknown severities', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'bogus'])(
    'maps the Alertmanager label %s to "a person decides", never to a prototype',
    (word) => {
      expect(severityFromLabel(word)).toEqual({ severity: 'critical', unrecognised: word.toLowerCase() });
    },
  );

  it('keeps the documented words', () => {
    expect(severityFromLabel('warning')).toEqual({ severity: 'medium' });
    expect(severityFromLabel(' Critical ')).toEqual({ severity: 'critical' });
  });

  it('treats a missing label like an unknown word: shown critical, a person decides', () => {
    expect(severityFromLabel(undefined)).toEqual({
      severity: 'critical',
      unrecognised: '(no severity label)',
    });
    expect(severityFromLabel('  ')).toEqual({ severity: 'critical', unrecognised: '(no severity label)' });
  });

  it('carries the unknown word on the mapped alert', () => {
    const mapped = mapAlertmanagerAlert(
      {
        status: 'firing',
        labels: { alertname: 'X', container: 'medic-demo', severity: '__proto__' },
        annotations: {},
        startsAt: '2026-11-30T12:00:00Z',
      },
      { targetLabels: ['container'], receivedAt: new Date() },
    );
    expect(mapped).toMatchObject({
      kind: 'firing',
      alert: { severity: 'critical', unrecognisedSeverity: '__proto__' },
    });
  });

  it('asks a person when the policy has no own rule for the severity, or the word was unknown', () => {
    const proto = decideRemediation(restart, '__proto__' as Severity, DEFAULT_APPROVAL_POLICY);
    expect(proto.kind).toBe('approval');
    const auto = {
      ...DEFAULT_APPROVAL_POLICY,
      severity: { ...DEFAULT_APPROVAL_POLICY.severity, critical: 'auto' as const },
    };
    const unknown = decideRemediation(restart, 'critical', auto, { unrecognisedSeverity: 'sev9' });
    expect(unknown).toMatchObject({
      kind: 'approval',
      reason: expect.stringContaining('"sev9" is not one Medic knows'),
    });
  });
});

describe('signal payloads are checked at the workflow boundary', () => {
  const alert = {
    source: 'webhook',
    target: 'medic-demo',
    alertType: 'crash',
    severity: 'high',
    status: 'firing',
    logs: [],
    firedAt: '2026-11-30T12:00:00Z',
    receivedAt: '2026-11-30T12:00:00Z',
  };

  it('accepts well-formed payloads', () => {
    expect(checkAlertPayload(alert, 'medic-demo')).toBeUndefined();
    expect(checkDecisionPayload({ by: 'alice', comment: 'go' })).toBeUndefined();
    expect(checkLeaseRelease({ requestId: 'r', outcome: 'failed' })).toBeUndefined();
    expect(
      checkPermitAnswer({ requestId: 'r', scope: 'lease', decision: { kind: 'granted', reason: 'free' } }),
    ).toBeUndefined();
  });

  it("accepts a refusal's kind and end, and answers without them from older guards", () => {
    const denied = (refusal?: unknown) => ({
      requestId: 'r',
      scope: 'budget',
      decision: { kind: 'denied', reason: 'spent', ...(refusal === undefined ? {} : { refusal }) },
    });
    expect(checkPermitAnswer(denied())).toBeUndefined();
    expect(checkPermitAnswer(denied({ kind: 'budget', until: '2026-12-04T10:00:00.000Z' }))).toBeUndefined();
    expect(checkPermitAnswer(denied({ kind: 'maintenance' }))).toBeUndefined();
    expect(checkPermitAnswer(denied('budget'))).toContain('decision.refusal must be an object');
    expect(checkPermitAnswer(denied({ kind: '' }))).toContain('decision.refusal.kind');
    expect(checkPermitAnswer(denied({ kind: 'budget', until: 'soon' }))).toContain(
      'decision.refusal.until must be a date-time',
    );
  });

  it.each([
    [null, 'must be an object'],
    [{ ...alert, logs: 'x' }, 'logs must be a list of strings'],
    [{ ...alert, count: -1 }, 'count must be a positive integer'],
    [{ ...alert, firedAt: 'yesterday' }, 'firedAt must be a date-time'],
    [{ ...alert, target: 'payments-db' }, 'the alert is about payments-db, not medic-demo'],
  ])('refuses the alert %j: %s', (payload, message) => {
    expect(checkAlertPayload(payload, 'medic-demo')).toContain(message);
  });

  it('refuses malformed decisions, lease and budget requests', () => {
    expect(checkDecisionPayload('alice')).toContain('JSON object');
    expect(checkDecisionPayload({ by: '   ' })).toContain('by must be a non-empty string');
    expect(checkDecisionPayload({ by: 'a', comment: 7 })).toContain('comment');
    expect(
      checkLeaseRequest({ requestId: 'r', incidentWorkflowId: 'i', action: 'RESTART', dryRun: false }),
    ).toContain('limits must be an object');
    expect(checkLeaseRelease({ requestId: 'r', outcome: 'exploded' })).toContain('outcome must be one of');
    expect(
      checkBudgetRequest({
        requestId: 'r',
        incidentWorkflowId: 'i',
        target: 't',
        dryRun: false,
        limits: { perHour: 'many', perDay: 1 },
      }),
    ).toContain('limits.perHour');
  });
});
