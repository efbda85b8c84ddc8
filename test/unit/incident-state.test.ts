// The incident's pure state changes: alerts counted exactly, severity only raised, the bounded timeline,
// the sender's `resolved` judged against the newest occurrence, and the lease TTL.
import { describe, expect, it } from 'vitest';
import {
  applyAlert,
  DELIVERY_MEMORY,
  judgeSenderResolved,
  leaseTtlMs,
  newAlertLedger,
  newIncidentState,
  REPEATED_ALERTS_IN_TIMELINE,
  recordEvent,
  TIMELINE_LIMIT,
} from '../../src/domain/incident.js';
import type { Alert } from '../../src/domain/types.js';

const AT = '2026-11-30T12:00:00.000Z';
const open = () =>
  newIncidentState({ id: 'run-1', workflowId: 'wf', target: 'medic-demo', alertType: 'crash', openedAt: AT });
const alert = (overrides: Partial<Alert> = {}): Alert => ({
  source: 'webhook',
  target: 'medic-demo',
  alertType: 'crash',
  severity: 'medium',
  status: 'firing',
  logs: [],
  firedAt: '2026-11-30T11:59:00.000Z',
  receivedAt: AT,
  ...overrides,
});

describe('applyAlert', () => {
  it('takes the first alert’s severity and names it in the timeline', () => {
    const state = open();
    const ledger = newAlertLedger();
    expect(
      applyAlert(state, ledger, alert({ severity: 'high', count: 3 }), { at: AT, refused: false }),
    ).toEqual({
      kind: 'first',
    });
    expect(state.severity).toBe('high');
    expect(state.alertCount).toBe(3);
    expect(ledger.first?.severity).toBe('high');
    expect(state.timeline.at(-1)).toMatchObject({
      event: 'alert',
      detail: expect.stringContaining('(3 alerts)'),
    });
  });

  it('counts a retried delivery once', () => {
    const state = open();
    const ledger = newAlertLedger();
    applyAlert(state, ledger, alert({ deliveryId: 'd1' }), { at: AT, refused: false });
    expect(applyAlert(state, ledger, alert({ deliveryId: 'd1' }), { at: AT, refused: false })).toEqual({
      kind: 'duplicate-delivery',
    });
    expect(state.alertCount).toBe(1);
  });

  it('remembers a bounded number of delivery ids', () => {
    const state = open();
    const ledger = newAlertLedger();
    for (let i = 0; i <= DELIVERY_MEMORY; i++)
      applyAlert(state, ledger, alert({ deliveryId: `d${i}` }), { at: AT, refused: false });
    expect(ledger.seenDeliveries).toHaveLength(DELIVERY_MEMORY);
    expect(ledger.seenDeliveries).not.toContain('d0');
  });

  it('raises severity on a repeat but never lowers it', () => {
    const state = open();
    const ledger = newAlertLedger();
    applyAlert(state, ledger, alert({ severity: 'medium' }), { at: AT, refused: false });
    expect(applyAlert(state, ledger, alert({ severity: 'critical' }), { at: AT, refused: false })).toEqual({
      kind: 'repeat',
      severityRaised: true,
    });
    expect(applyAlert(state, ledger, alert({ severity: 'low' }), { at: AT, refused: false })).toEqual({
      kind: 'repeat',
      severityRaised: false,
    });
    expect(state.severity).toBe('critical');
    expect(state.timeline.map((e) => e.event)).toEqual([
      'alert',
      'severity-raised',
      'alert-repeated',
      'alert-repeated',
    ]);
  });

  it('stops writing repeats to the timeline after a few, but keeps counting', () => {
    const state = open();
    const ledger = newAlertLedger();
    for (let i = 0; i < 50; i++) applyAlert(state, ledger, alert(), { at: AT, refused: false });
    expect(state.alertCount).toBe(50);
    expect(state.timeline.filter((e) => e.event === 'alert-repeated')).toHaveLength(
      REPEATED_ALERTS_IN_TIMELINE - 1,
    );
  });

  it('keeps the newest fire time, whatever order copies arrive in', () => {
    const state = open();
    const ledger = newAlertLedger();
    applyAlert(state, ledger, alert({ firedAt: '2026-11-30T11:00:00Z' }), { at: AT, refused: false });
    applyAlert(state, ledger, alert({ firedAt: '2026-11-30T10:00:00Z' }), { at: AT, refused: false });
    expect(ledger.newestFiredAtMs).toBe(Date.parse('2026-11-30T11:00:00Z'));
  });

  it('never takes a first alert for a refused incident carried over', () => {
    const state = open();
    const ledger = newAlertLedger();
    expect(applyAlert(state, ledger, alert(), { at: AT, refused: true }).kind).toBe('repeat');
    expect(ledger.first).toBeUndefined();
  });
});

describe('recordEvent', () => {
  it('keeps the first entry and the newest ones', () => {
    const state = open();
    for (let i = 0; i < TIMELINE_LIMIT + 25; i++) recordEvent(state, AT, `e${i}`, '');
    expect(state.timeline).toHaveLength(TIMELINE_LIMIT);
    expect(state.timeline[0]?.event).toBe('e0');
    expect(state.timeline.at(-1)?.event).toBe(`e${TIMELINE_LIMIT + 24}`);
    expect(state.timeline[1]?.event).toBe('e26');
  });
});

describe('judgeSenderResolved', () => {
  const resolved = (endedAt: string) => ({ source: 'webhook' as const, endedAt, receivedAt: AT });

  it('accepts a resolve before Medic acted', () => {
    const state = open();
    expect(judgeSenderResolved(state, newAlertLedger(), resolved(AT), { at: AT, acting: false })).toBe(
      'accepted',
    );
  });

  it('notes but does not accept a resolve once Medic acted', () => {
    const state = open();
    expect(judgeSenderResolved(state, newAlertLedger(), resolved(AT), { at: AT, acting: true })).toBe(
      'after-acting',
    );
  });

  it('ignores, after a reopen, a resolve of the earlier occurrence', () => {
    const state = { ...open(), recurrences: 1 };
    const ledger = newAlertLedger();
    ledger.newestFiredAtMs = Date.parse('2026-11-30T12:00:00Z');
    expect(
      judgeSenderResolved(state, ledger, resolved('2026-11-30T11:30:00Z'), { at: AT, acting: false }),
    ).toBe('stale');
    expect(
      judgeSenderResolved(state, ledger, resolved('2026-11-30T12:30:00Z'), { at: AT, acting: false }),
    ).toBe('accepted');
  });
});

describe('a resolved only from the source that opened the incident', () => {
  const opened = (first: Alert) => {
    const ledger = newAlertLedger();
    ledger.first = first;
    return ledger;
  };
  const resolvedBy = (source: Alert['source'], sender?: string) => ({
    source,
    ...(sender ? { sender } : {}),
    endedAt: AT,
    receivedAt: AT,
  });
  const judge = (first: Alert, payload: ReturnType<typeof resolvedBy>) => {
    const state = open();
    const verdict = judgeSenderResolved(state, opened(first), payload, {
      at: AT,
      acting: false,
      onlyFromOpener: true,
    });
    return { verdict, last: state.timeline.at(-1) };
  };

  it('takes it from the webhook sender that opened the incident', () => {
    expect(judge(alert({ sender: 'demo' }), resolvedBy('webhook', 'demo')).verdict).toBe('accepted');
  });

  it('refuses it from another webhook sender, and records why', () => {
    const { verdict, last } = judge(alert({ sender: 'demo' }), resolvedBy('webhook', 'payments'));
    expect(verdict).toBe('not-the-opener');
    expect(last).toMatchObject({
      event: 'resolved-refused',
      detail: expect.stringContaining('webhook sender demo opened this incident'),
    });
  });

  it('takes it from Alertmanager for an Alertmanager incident, whichever token, but not from a webhook', () => {
    const first = alert({ source: 'alertmanager', sender: 'am-1' });
    expect(judge(first, resolvedBy('alertmanager', 'am-2')).verdict).toBe('accepted');
    expect(judge(first, resolvedBy('webhook', 'demo')).verdict).toBe('not-the-opener');
  });

  it('refuses every resolved for an incident the engine watch opened', () => {
    const first = alert({ source: 'engine' });
    expect(judge(first, resolvedBy('webhook', 'demo')).verdict).toBe('not-the-opener');
    expect(judge(first, resolvedBy('alertmanager', 'am')).verdict).toBe('not-the-opener');
  });

  it('without the rule (histories from before it), takes any', () => {
    const state = open();
    const ledger = opened(alert({ source: 'engine' }));
    expect(judgeSenderResolved(state, ledger, resolvedBy('webhook'), { at: AT, acting: false })).toBe(
      'accepted',
    );
  });
});

describe('leaseTtlMs', () => {
  const timings = {
    restartStopTimeoutMs: 10_000,
    healthRetry: { initialIntervalMs: 2000, backoffCoefficient: 2, maximumAttempts: 3 },
    guard: { leaseTtlMs: 1000 },
  };

  it('covers the budget answer, five restart attempts and every health check with its backoff', () => {
    // budget 60 s + 40 s; restarts 5 x 70 s + 30 s; checks 3 x 30 s + backoff 2 s + 4 s; margin 60 s
    expect(leaseTtlMs(timings)).toBe(60_000 + 40_000 + 380_000 + 96_000 + 60_000);
  });

  it('caps each backoff at 100 initial intervals, as Temporal’s default maximum interval does', () => {
    const long = {
      ...timings,
      healthRetry: { initialIntervalMs: 10, backoffCoefficient: 10, maximumAttempts: 5 },
    };
    // backoffs 10, 100, 1000 (the cap), 1000
    expect(leaseTtlMs(long)).toBe(60_000 + 40_000 + 380_000 + 5 * 30_000 + 10 + 100 + 1000 + 1000 + 60_000);
  });

  it('covers a restart waiting out an engine outage (MEDIC_ENGINE_OUTAGE_WAIT)', () => {
    expect(leaseTtlMs({ ...timings, engineOutageWaitMs: 300_000 })).toBe(leaseTtlMs(timings) + 300_000);
  });

  it('never goes below the configured TTL', () => {
    expect(leaseTtlMs({ ...timings, guard: { leaseTtlMs: 10_000_000 } })).toBe(10_000_000);
  });
});
