// An incident's state changes, pure: a new incident, the bounded timeline, applying an alert or the
// sender's `resolved`, and the lease TTL a remediation needs. The workflow calls these from its handlers
// and steps; they take the time as an argument, so they are unit-tested without Temporal.
import { unrecognisedSeverity } from './message-checks.js';
import { defaultMs } from './settings-table.js';
import type { Alert, IncidentState, ResolvedPayload, Severity } from './types.js';
import { SEVERITIES } from './types.js';

/** Timeline entries kept per incident; an alert storm must not grow the state without bound. */
export const TIMELINE_LIMIT = 200;
/** Delivery ids remembered to count a retried delivery once; retries come within seconds. */
export const DELIVERY_MEMORY = 100;
/** Repeated alerts beyond this many are counted, not written to the timeline one by one. */
export const REPEATED_ALERTS_IN_TIMELINE = 10;
/** How long the budget workflow may take to answer before the incident asks a person instead. */
export const BUDGET_ANSWER_TIMEOUT_MS = 60_000;

export const secondsText = (ms: number) => `${Math.round(ms / 1000)} s`;

export function newIncidentState(input: {
  id: string;
  workflowId: string;
  target: string;
  host?: string;
  alertType: string;
  openedAt: string;
}): IncidentState {
  return {
    ...input,
    status: 'OPEN',
    severity: 'medium',
    alertCount: 0,
    actions: [],
    timeline: [],
  };
}

/** Appends to the timeline, keeping the first entry (how it began) and the newest ones. */
export function recordEvent(state: IncidentState, at: string, event: string, detail: string): void {
  state.timeline.push({ at, event, detail });
  if (state.timeline.length > TIMELINE_LIMIT)
    state.timeline.splice(1, state.timeline.length - TIMELINE_LIMIT);
}

/** What the incident knows of its alerts beyond the state people read. */
export interface AlertLedger {
  /** Delivery ids already counted (carried over by continue-as-new). */
  seenDeliveries: string[];
  /** When the newest occurrence fired, by the sender's clock: copies of one occurrence share it. */
  newestFiredAtMs: number;
  first?: Alert;
  latest?: Alert;
}

export function newAlertLedger(seenDeliveries: readonly string[] = []): AlertLedger {
  return { seenDeliveries: [...seenDeliveries], newestFiredAtMs: 0 };
}

export type AlertEffect =
  | { kind: 'duplicate-delivery' }
  | { kind: 'first' }
  | { kind: 'repeat'; severityRaised: boolean };

/**
 * Counts an alert into the incident. A delivery retried after a lost answer is counted once, and a
 * coalesced signal stands for `count` sender alerts, so the count stays exact under a storm. The first
 * alert of an incident (never of a refused one carried over) sets its severity; a repeat may only raise it.
 */
export function applyAlert(
  state: IncidentState,
  ledger: AlertLedger,
  alert: Alert,
  options: { at: string; refused: boolean },
): AlertEffect {
  if (alert.deliveryId !== undefined) {
    if (ledger.seenDeliveries.includes(alert.deliveryId)) return { kind: 'duplicate-delivery' };
    ledger.seenDeliveries.push(alert.deliveryId);
    if (ledger.seenDeliveries.length > DELIVERY_MEMORY) ledger.seenDeliveries.shift();
  }
  const count = Number.isInteger(alert.count) && (alert.count ?? 0) > 0 ? (alert.count as number) : 1;
  const previousCount = state.alertCount;
  state.alertCount += count;
  state.lastAlertAt = alert.lastSeenAt ?? alert.receivedAt;
  ledger.latest = alert;
  ledger.newestFiredAtMs = Math.max(ledger.newestFiredAtMs, Date.parse(alert.firedAt) || 0);
  if (alert.evidence && !state.evidence) state.evidence = alert.evidence;
  // A severity Medic does not know fails closed: shown as critical, and never acted on without a person.
  const unknownSeverity = alert.unrecognisedSeverity ?? unrecognisedSeverity(alert);
  const severity: Severity = unknownSeverity ? 'critical' : alert.severity;
  if (unknownSeverity && !state.unrecognisedSeverity) {
    state.unrecognisedSeverity = unknownSeverity;
    recordEvent(
      state,
      options.at,
      'severity-unknown',
      `"${unknownSeverity}" is not a severity Medic knows: a person decides`,
    );
  }
  if (!ledger.first && !options.refused) {
    ledger.first = alert;
    state.severity = severity;
    const many = count > 1 ? ` (${count} alerts)` : '';
    const what = `${alert.alertType} (${severity}) from ${alert.source} about ${alert.target}${many}`;
    recordEvent(state, options.at, 'alert', what);
    return { kind: 'first' };
  }
  const severityRaised = SEVERITIES.indexOf(severity) > SEVERITIES.indexOf(state.severity);
  if (severityRaised) {
    const detail = `a repeated alert raised severity from ${state.severity} to ${severity}`;
    recordEvent(state, options.at, 'severity-raised', detail);
    state.severity = severity;
  }
  if (previousCount < REPEATED_ALERTS_IN_TIMELINE) {
    const detail =
      count > 1
        ? `alerts #${previousCount + 1}-${state.alertCount} joined the open incident`
        : `alert #${state.alertCount} joined the open incident`;
    recordEvent(state, options.at, 'alert-repeated', detail);
  }
  return { kind: 'repeat', severityRaised };
}

/**
 * Judges the sender's `resolved`: `accepted` when it may close the incident as recovered by itself
 * (Medic has not acted yet), otherwise noted and ignored. After a reopen, a late or retried `resolved`
 * of the earlier occurrence says nothing about this one.
 */
export function judgeSenderResolved(
  state: IncidentState,
  ledger: AlertLedger,
  payload: ResolvedPayload,
  options: { at: string; acting: boolean; onlyFromOpener?: boolean },
): 'accepted' | 'stale' | 'after-acting' | 'not-the-opener' {
  const notOpener = options.onlyFromOpener ? notFromOpener(ledger.first, payload) : undefined;
  if (notOpener) {
    recordEvent(state, options.at, 'resolved-refused', notOpener);
    return 'not-the-opener';
  }
  const endedAtMs = Date.parse(payload.endedAt);
  if (state.recurrences && Number.isFinite(endedAtMs) && endedAtMs < ledger.newestFiredAtMs) {
    const detail = `${payload.source} resolved an earlier occurrence (ended ${payload.endedAt})`;
    recordEvent(state, options.at, 'sender-resolved-stale', detail);
    return 'stale';
  }
  if (options.acting) {
    const detail = `${payload.source} reports the alert resolved (Medic already acted)`;
    recordEvent(state, options.at, 'sender-resolved', detail);
    return 'after-acting';
  }
  recordEvent(
    state,
    options.at,
    'sender-resolved',
    `${payload.source} reports the alert resolved at ${payload.endedAt}`,
  );
  return 'accepted';
}

const senderText = (source: string, sender?: string) => (sender ? `${source} sender ${sender}` : source);

/**
 * Why a `resolved` may not close this incident: only the source that opened it may say its alert is over (the
 * same webhook sender, or Alertmanager for an Alertmanager incident). An incident Medic's own engine watch
 * opened is closed by Medic's own checks only.
 */
export function notFromOpener(opener: Alert | undefined, payload: ResolvedPayload): string | undefined {
  if (!opener) return undefined;
  const from = senderText(payload.source, payload.sender);
  if (opener.source === 'engine') {
    return `a resolved from ${from} changes nothing: Medic's engine watch opened this incident, and only Medic's own checks close it`;
  }
  // An incident opened before senders were named records none: any webhook sender's word is taken then.
  const sameSender =
    opener.source !== 'webhook' || opener.sender === undefined || opener.sender === payload.sender;
  if (payload.source === opener.source && sameSender) return undefined;
  return `a resolved from ${from} changes nothing: ${senderText(opener.source, opener.sender)} opened this incident, and only it may resolve it`;
}

/** What the lease TTL depends on: how long one restart and its verification may take at worst. */
export interface RemediationTimings {
  restartStopTimeoutMs: number;
  healthRetry: { initialIntervalMs: number; backoffCoefficient: number; maximumAttempts: number };
  guard: { leaseTtlMs: number };
  /** A restart may wait this long for an unavailable engine (MEDIC_ENGINE_OUTAGE_WAIT) while the lease is held. */
  engineOutageWaitMs?: number;
}

/** How long an incident waits for an unavailable container engine before it escalates (MEDIC_ENGINE_OUTAGE_WAIT). */
export const DEFAULT_ENGINE_OUTAGE_WAIT_MS = defaultMs('MEDIC_ENGINE_OUTAGE_WAIT');

/** A restart attempt may take the container's stop timeout plus a minute; five attempts are allowed. */
export const restartAttemptTimeoutMs = (t: RemediationTimings) => t.restartStopTimeoutMs + 60_000;
export const RESTART_ATTEMPTS = 5;
/** One health check's start-to-close timeout. */
export const HEALTH_CHECK_TIMEOUT_MS = 30_000;

/**
 * The verification's cadence (patch `verify-cadence`). The MEDIC_HEALTH_* retry policy alone checked at
 * 0, i, i+i*b, ... (i the initial interval, b the backoff): the first check usually ran the instant the
 * container started, failed, and the next came a whole initial interval later. Now the first attempt
 * probes fast for that initial interval (probe times are a superset of the old ones up to it), and the
 * retry policy takes over from the old second wait: checks at the same later times, the verdict at the
 * same moment, one Temporal attempt fewer because the first window covers the old first two checks.
 */
export function verificationCadence(h: RemediationTimings['healthRetry']): {
  firstWindowMs: number;
  retry: {
    initialIntervalMs: number;
    maximumIntervalMs: number;
    backoffCoefficient: number;
    maximumAttempts: number;
  };
  attemptTimeoutMs: number;
} {
  const firstWindowMs = h.maximumAttempts > 1 ? h.initialIntervalMs : 0;
  return {
    firstWindowMs,
    retry: {
      initialIntervalMs: h.initialIntervalMs * h.backoffCoefficient,
      // Temporal's default cap is 100 initial intervals: keep the old policy's cap.
      maximumIntervalMs: Math.max(100 * h.initialIntervalMs, h.initialIntervalMs * h.backoffCoefficient),
      backoffCoefficient: h.backoffCoefficient,
      maximumAttempts: Math.max(1, h.maximumAttempts - 1),
    },
    attemptTimeoutMs: firstWindowMs + HEALTH_CHECK_TIMEOUT_MS,
  };
}

/**
 * The longest a lease can be held: budget answer, a notification, every restart attempt, every health
 * check with its backoff, and a margin. The guard's TTL is at least this, so a slow but living incident
 * never loses its lease to the next one in the middle of acting.
 */
export function leaseTtlMs(t: RemediationTimings): number {
  const restartWorstMs = RESTART_ATTEMPTS * restartAttemptTimeoutMs(t) + 30_000 + (t.engineOutageWaitMs ?? 0);
  let verifyWorstMs = 0;
  for (let i = 0; i < t.healthRetry.maximumAttempts; i++) {
    verifyWorstMs += HEALTH_CHECK_TIMEOUT_MS;
    if (i > 0) {
      const backoff = t.healthRetry.initialIntervalMs * t.healthRetry.backoffCoefficient ** (i - 1);
      verifyWorstMs += Math.min(backoff, 100 * t.healthRetry.initialIntervalMs);
    }
  }
  return Math.max(
    t.guard.leaseTtlMs,
    BUDGET_ANSWER_TIMEOUT_MS + 40_000 + restartWorstMs + verifyWorstMs + 60_000,
  );
}
