// The rules that keep autonomy safe, as pure functions over plain state. The guard workflow (one per
// target) and the budget workflow (one for all targets) hold the state durably and call these; unit
// tests call them directly. Times are epoch milliseconds handed in by the caller (the workflow clock).
import { defaultMs, defaultNumber } from './settings-table.js';
import type { TargetDeskState } from './target-desk.js';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** Kept per target; more than any hourly limit anyone would configure. */
const ACTION_HISTORY_LIMIT = 200;

export interface GuardLimits {
  /** Minimum time between two actions on one target. */
  cooldownMs: number;
  maxRestartsPerHour: number;
  /** Consecutive failed remediations that open the circuit breaker. */
  breakerThreshold: number;
  /** How long an open breaker stays open before it closes by itself. */
  breakerResetMs: number;
  /** A lease not released by then is taken back (its incident died or was terminated). */
  leaseTtlMs: number;
}

export interface BudgetLimits {
  perHour: number;
  perDay: number;
}

export const DEFAULT_GUARD_LIMITS: GuardLimits = {
  cooldownMs: defaultMs('MEDIC_GUARD_COOLDOWN'),
  maxRestartsPerHour: defaultNumber('MEDIC_GUARD_MAX_RESTARTS_PER_HOUR'),
  breakerThreshold: defaultNumber('MEDIC_BREAKER_THRESHOLD'),
  breakerResetMs: defaultMs('MEDIC_BREAKER_RESET'),
  leaseTtlMs: defaultMs('MEDIC_LEASE_TTL'),
};

export const DEFAULT_BUDGET_LIMITS: BudgetLimits = {
  perHour: defaultNumber('MEDIC_BUDGET_PER_HOUR'),
  perDay: defaultNumber('MEDIC_BUDGET_PER_DAY'),
};

export interface LeaseRequest {
  requestId: string;
  incidentWorkflowId: string;
  action: 'RESTART';
  /** A person approved this action: cooldown, hourly limit and breaker are waived, exclusivity is not. */
  approvedBy?: string;
  /** Evaluate and hold the lease, but the action will not happen and does not count. */
  dryRun: boolean;
  limits: GuardLimits;
}

/**
 * `step-done`: a plan's step acted and did not heal, and the plan goes on: counted as an action, neither a
 * success nor a failure, and the target is kept for that incident's next step (RESERVED_FOR_NEXT_STEP_MS).
 */
export type ReleaseOutcome = 'succeeded' | 'failed' | 'not-acted' | 'step-done';

/** How long a plan's next step has the target to itself after a step: the cooldown is between plans. */
export const RESERVED_FOR_NEXT_STEP_MS = 5 * 60_000;

export interface GuardAction {
  requestId: string;
  incidentWorkflowId: string;
  grantedAt: number;
  releasedAt?: number;
  outcome?: ReleaseOutcome;
  dryRun: boolean;
  approvedBy?: string;
}

export interface GuardState {
  target: string;
  limits: GuardLimits;
  holder?: {
    requestId: string;
    incidentWorkflowId: string;
    grantedAt: number;
    expiresAt: number;
    /** Granted as a plan's next step, on a reservation kept until then: a step that did nothing keeps it. */
    reservedUntilMs?: number;
  };
  /** Actions granted, newest last; those released as `not-acted` never happened and count for nothing. */
  actions: GuardAction[];
  consecutiveFailures: number;
  breaker: { open: boolean; openedAt?: number; closesAt?: number; reason?: string };
  /** Requests waiting for the holder to release, oldest first. */
  queue: Array<LeaseRequest & { queuedAtMs?: number }>;
  /** Recent decisions by request id, so a repeated request gets the same answer. */
  decided: Array<{ requestId: string; decision: LeaseDecision }>;
  /** What the target's incidents know of each other (absent until one asks). */
  desk?: TargetDeskState;
  /** A plan between two steps: the target is its incident's until then (no cooldown, no one else first). */
  reserved?: { incidentWorkflowId: string; untilMs: number };
  /**
   * The image the target last ran verified healthy (after an incident, or on the sweep): what a rollback
   * goes back to. Only its id and name, never the container's environment.
   */
  healthyImage?: HealthyImage;
}

/** An image a target was verified healthy on. */
export interface HealthyImage {
  id: string;
  name?: string;
  verifiedAt: string;
}

/** Keeps the image the target was verified healthy on; true when it changed. */
export function noteHealthyImage(state: GuardState, image: HealthyImage): boolean {
  if (state.healthyImage?.id === image.id) return false;
  state.healthyImage = {
    id: image.id,
    ...(image.name ? { name: image.name } : {}),
    verifiedAt: image.verifiedAt,
  };
  return true;
}

/**
 * Why a guard or the budget refused, for code (metrics, and an incident that waits for the limit to end)
 * beside the sentence for people. `maintenance` is reserved for maintenance windows; `withdrawn` is the
 * answer remembered for a queued request its incident gave up; `other` is a refusal that carried no kind
 * (an answer from a guard or budget run older than the kinds).
 */
export type RefusalKind =
  | 'cooldown'
  | 'hourly-limit'
  | 'breaker-open'
  | 'budget'
  | 'no-answer'
  | 'maintenance'
  | 'withdrawn'
  | 'acted-meanwhile'
  | 'other';

export const REFUSAL_KINDS: readonly RefusalKind[] = [
  'cooldown',
  'hourly-limit',
  'breaker-open',
  'budget',
  'no-answer',
  'maintenance',
  'withdrawn',
  'acted-meanwhile',
  'other',
];

/**
 * A refusal's kind and, where the limit has an end, `until`: when it ends, as an ISO 8601 date-time in UTC
 * (like every time Medic shows), computed from the workflow clock. Asking again at `until` may still be
 * refused by another limit.
 */
export interface Refusal {
  kind: RefusalKind;
  until?: string;
  /** `acted-meanwhile`: the incident whose action on the target ended while this request waited in line. */
  by?: string;
}

export type LeaseDecision =
  | { kind: 'granted'; reason: string }
  | { kind: 'denied'; reason: string; refusal?: Refusal }
  | { kind: 'queued'; reason: string };

export function newGuardState(target: string, limits: GuardLimits = DEFAULT_GUARD_LIMITS): GuardState {
  return {
    target,
    limits,
    actions: [],
    consecutiveFailures: 0,
    breaker: { open: false },
    queue: [],
    decided: [],
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => `${Math.ceil(ms / 1000)} s`;
const minutes = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : seconds(ms));

/** Actions that count against limits: real ones that were not given back. */
function counted(state: GuardState): GuardAction[] {
  return state.actions.filter((a) => !a.dryRun && a.outcome !== 'not-acted');
}

/** Expires a forgotten lease and closes a breaker whose time is up. Returns what changed, for the log. */
export function tickGuard(state: GuardState, now: number): string[] {
  const changes: string[] = [];
  if (state.holder && now >= state.holder.expiresAt) {
    changes.push(`lease of ${state.holder.incidentWorkflowId} expired unreleased`);
    releaseLease(state, state.holder.requestId, 'failed', now);
  }
  if (state.breaker.open && state.breaker.closesAt !== undefined && now >= state.breaker.closesAt) {
    state.breaker = { open: false };
    state.consecutiveFailures = 0;
    changes.push('circuit breaker closed after its reset time');
  }
  const horizon = now - Math.max(HOUR_MS, state.limits.cooldownMs);
  state.actions = state.actions.filter((a) => a === state.actions.at(-1) || a.grantedAt >= horizon);
  if (state.actions.length > ACTION_HISTORY_LIMIT)
    state.actions.splice(0, state.actions.length - ACTION_HISTORY_LIMIT);
  return changes;
}

/** Decides a lease request now. A granted request becomes the holder; a busy target queues it. */
export function requestLease(state: GuardState, request: LeaseRequest, now: number): LeaseDecision {
  const previous = state.decided.find((d) => d.requestId === request.requestId);
  if (previous) return previous.decision;
  if (state.holder?.requestId === request.requestId) return { kind: 'granted', reason: 'already held' };
  expireReservation(state, now);
  if (state.queue.some((q) => q.requestId === request.requestId)) {
    return { kind: 'queued', reason: `waiting for ${state.holder?.incidentWorkflowId ?? 'the lease'}` };
  }
  state.limits = request.limits;
  tickGuard(state, now);
  // Behind a holder, or behind older requests still waiting their turn (served in order by nextQueued), or
  // behind a plan between two of its steps.
  const reservedForAnother =
    state.reserved && state.reserved.incidentWorkflowId !== request.incidentWorkflowId;
  const planContinues = state.reserved?.incidentWorkflowId === request.incidentWorkflowId;
  if (!planContinues && (state.holder || state.queue.length > 0 || reservedForAnother)) {
    state.queue.push({ ...request, queuedAtMs: now });
    const ahead = state.holder
      ? `${state.target} is being acted on by ${state.holder.incidentWorkflowId}`
      : `older requests wait for ${state.target}`;
    return { kind: 'queued', reason: `${ahead}; one action at a time` };
  }
  return decide(state, request, now);
}

function remember(state: GuardState, requestId: string, decision: LeaseDecision): LeaseDecision {
  state.decided.push({ requestId, decision });
  if (state.decided.length > 50) state.decided.splice(0, state.decided.length - 50);
  return decision;
}

function decide(state: GuardState, request: LeaseRequest, now: number): LeaseDecision {
  // A plan's next step: the cooldown its own last step started does not apply (the hourly limit does).
  const reservation =
    state.reserved?.incidentWorkflowId === request.incidentWorkflowId ? state.reserved : undefined;
  const limits = reservation ? { ...request.limits, cooldownMs: 0 } : request.limits;
  const denial = request.approvedBy ? undefined : limitDenial(state, limits, now);
  if (denial) return remember(state, request.requestId, { kind: 'denied', ...denial });
  state.reserved = reservation ? undefined : state.reserved;
  state.holder = {
    requestId: request.requestId,
    incidentWorkflowId: request.incidentWorkflowId,
    grantedAt: now,
    expiresAt: now + request.limits.leaseTtlMs,
    ...(reservation ? { reservedUntilMs: reservation.untilMs } : {}),
  };
  state.actions.push({
    requestId: request.requestId,
    incidentWorkflowId: request.incidentWorkflowId,
    grantedAt: now,
    dryRun: request.dryRun,
    ...(request.approvedBy ? { approvedBy: request.approvedBy } : {}),
  });
  const reason = request.approvedBy
    ? `approved by ${request.approvedBy}: target limits waived, lease granted`
    : `within limits (${restartsInLastHour(state, now)}/${request.limits.maxRestartsPerHour} restarts this hour)`;
  return remember(state, request.requestId, { kind: 'granted', reason });
}

function restartsInLastHour(state: GuardState, now: number): number {
  return restartsInLastHourAt(state, now).length;
}

/** When the last real action ended (its release), or started while it still runs: the cooldown runs from here. */
function lastActionEnd(state: GuardState): number | undefined {
  const last = counted(state).at(-1);
  return last ? (last.releasedAt ?? last.grantedAt) : undefined;
}

/** The restarts that count against the hourly limit, oldest first. */
function restartsInLastHourAt(state: GuardState, now: number): number[] {
  return counted(state)
    .filter((a) => a.grantedAt > now - HOUR_MS)
    .map((a) => a.grantedAt)
    .sort((a, b) => a - b);
}

/**
 * When a count of events (oldest first) in a sliding window falls below `limit` again: the oldest that must
 * leave the window has left it. Undefined when the limit is 0 (it never allows one).
 */
function windowEnds(times: readonly number[], limit: number, windowMs: number): string | undefined {
  const leaving = times[times.length - limit];
  return limit > 0 && leaving !== undefined ? iso(leaving + windowMs) : undefined;
}

/** Why the limits forbid an action now, or undefined when they allow it. */
export function limitDenial(
  state: GuardState,
  limits: GuardLimits,
  now: number,
): { reason: string; refusal: Refusal } | undefined {
  const { breaker } = state;
  if (breaker.open) {
    const until = breaker.closesAt !== undefined ? ` for another ${seconds(breaker.closesAt - now)}` : '';
    return {
      reason: `circuit breaker open on ${state.target}${until}: ${breaker.reason ?? 'repeated failures'}`,
      refusal: {
        kind: 'breaker-open',
        ...(breaker.closesAt !== undefined ? { until: iso(breaker.closesAt) } : {}),
      },
    };
  }
  const lastEnded = lastActionEnd(state);
  if (lastEnded !== undefined && limits.cooldownMs > 0 && now - lastEnded < limits.cooldownMs) {
    return {
      reason: `cooldown on ${state.target}: last action ended ${seconds(now - lastEnded)} ago, cooldown is ${minutes(limits.cooldownMs)}`,
      refusal: { kind: 'cooldown', until: iso(lastEnded + limits.cooldownMs) },
    };
  }
  const lastHour = restartsInLastHourAt(state, now);
  if (lastHour.length >= limits.maxRestartsPerHour) {
    const until = windowEnds(lastHour, limits.maxRestartsPerHour, HOUR_MS);
    return {
      reason: `${lastHour.length} restarts of ${state.target} in the last hour; the limit is ${limits.maxRestartsPerHour} per hour`,
      refusal: { kind: 'hourly-limit', ...(until ? { until } : {}) },
    };
  }
  return undefined;
}

/**
 * The holder reports its outcome. Failures in a row open the breaker; `not-acted` gives the action
 * back. Returns the next queued request to decide, if any (the caller decides it and answers it).
 */
export function releaseLease(
  state: GuardState,
  requestId: string,
  outcome: ReleaseOutcome,
  now: number,
): { released: boolean; dequeued?: boolean; breakerOpened?: string } {
  if (state.holder?.requestId !== requestId) {
    // Its incident gave up waiting: it must never be granted later, to nobody.
    const before = state.queue.length;
    state.queue = state.queue.filter((q) => q.requestId !== requestId);
    if (state.queue.length < before) {
      remember(state, requestId, {
        kind: 'denied',
        reason: 'withdrawn by its incident',
        refusal: { kind: 'withdrawn' },
      });
      return { released: false, dequeued: true };
    }
    return { released: false };
  }
  const holder = state.holder.incidentWorkflowId;
  const reservedUntilMs = state.holder.reservedUntilMs;
  state.holder = undefined;
  const action = state.actions.find((a) => a.requestId === requestId);
  if (action) {
    action.releasedAt = now;
    action.outcome = outcome;
  }
  if (outcome === 'step-done')
    state.reserved = { incidentWorkflowId: holder, untilMs: now + RESERVED_FOR_NEXT_STEP_MS };
  // A plan's step that did nothing gives back the reservation it was granted on, for the step after it.
  if (outcome === 'not-acted' && reservedUntilMs !== undefined && now < reservedUntilMs)
    state.reserved = { incidentWorkflowId: holder, untilMs: reservedUntilMs };
  let breakerOpened: string | undefined;
  if (action && !action.dryRun) {
    if (outcome === 'succeeded') state.consecutiveFailures = 0;
    if (outcome === 'failed') {
      state.consecutiveFailures += 1;
      if (!state.breaker.open && state.consecutiveFailures >= state.limits.breakerThreshold) {
        breakerOpened = `${state.consecutiveFailures} consecutive failed remediations`;
        state.breaker = {
          open: true,
          openedAt: now,
          closesAt: now + state.limits.breakerResetMs,
          reason: breakerOpened,
        };
      }
    }
  }
  return { released: true, ...(breakerOpened ? { breakerOpened } : {}) };
}

/** A plan that did not ask for its next step in time gives the target back to the queue. */
function expireReservation(state: GuardState, now: number): void {
  if (state.reserved && now >= state.reserved.untilMs) state.reserved = undefined;
}

/** Takes the next queued request and decides it (granted or denied); undefined when none waits. */
export function nextQueued(
  state: GuardState,
  now: number,
): { request: LeaseRequest; decision: LeaseDecision } | undefined {
  if (state.holder) return undefined;
  expireReservation(state, now);
  if (state.reserved) return undefined;
  const queued = state.queue.shift();
  if (!queued) return undefined;
  const { queuedAtMs, ...request } = queued;
  const decision = decide(state, request, now);
  // The cooldown of an action that ended while this request waited: the target was acted on meanwhile, and
  // its incident should look at it again rather than ask a person to act once more.
  const meanwhile = [...state.actions]
    .reverse()
    .find(
      (a) =>
        !a.dryRun &&
        a.outcome !== 'not-acted' &&
        (a.releasedAt ?? 0) >= (queuedAtMs ?? Number.POSITIVE_INFINITY),
    );
  if (decision.kind !== 'denied' || decision.refusal?.kind !== 'cooldown' || !meanwhile)
    return { request, decision };
  const acted: LeaseDecision = {
    kind: 'denied',
    reason: `${state.target} was acted on by ${meanwhile.incidentWorkflowId} while this request waited; ${decision.reason}`,
    refusal: { ...decision.refusal, kind: 'acted-meanwhile', by: meanwhile.incidentWorkflowId },
  };
  const remembered = state.decided.find((d) => d.requestId === request.requestId);
  if (remembered) remembered.decision = acted;
  return { request, decision: acted };
}

export function resetBreaker(state: GuardState): boolean {
  const wasOpen = state.breaker.open;
  state.breaker = { open: false };
  state.consecutiveFailures = 0;
  return wasOpen;
}

/** What `GET /guards/:target` and the guard's query show. */
export interface GuardSnapshot {
  target: string;
  limits: GuardLimits;
  holder?: { incidentWorkflowId: string; grantedAt: string; expiresAt: string };
  queued: string[];
  /** A plan between two of its steps keeps the target until then. */
  reserved?: { incidentWorkflowId: string; until: string };
  /** The image it last ran verified healthy. */
  healthyImage?: HealthyImage;
  restartsLastHour: number;
  cooldownRemainingMs: number;
  /** When the last real action ended (or started, while it runs): the cooldown runs from here. */
  lastActionAt?: string;
  consecutiveFailures: number;
  breaker: { open: boolean; openedAt?: string; closesAt?: string; reason?: string };
  recentActions: Array<{
    incidentWorkflowId: string;
    grantedAt: string;
    releasedAt?: string;
    outcome?: ReleaseOutcome;
    dryRun: boolean;
    approvedBy?: string;
  }>;
}

export function snapshotGuard(state: GuardState, now: number): GuardSnapshot {
  const lastEnded = lastActionEnd(state);
  return {
    target: state.target,
    limits: state.limits,
    ...(state.holder
      ? {
          holder: {
            incidentWorkflowId: state.holder.incidentWorkflowId,
            grantedAt: iso(state.holder.grantedAt),
            expiresAt: iso(state.holder.expiresAt),
          },
        }
      : {}),
    queued: state.queue.map((q) => q.incidentWorkflowId),
    ...(state.reserved && now < state.reserved.untilMs
      ? {
          reserved: {
            incidentWorkflowId: state.reserved.incidentWorkflowId,
            until: iso(state.reserved.untilMs),
          },
        }
      : {}),
    ...(state.healthyImage ? { healthyImage: state.healthyImage } : {}),
    restartsLastHour: restartsInLastHour(state, now),
    cooldownRemainingMs:
      lastEnded !== undefined ? Math.max(0, state.limits.cooldownMs - (now - lastEnded)) : 0,
    ...(lastEnded !== undefined ? { lastActionAt: iso(lastEnded) } : {}),
    consecutiveFailures: state.consecutiveFailures,
    breaker: {
      open: state.breaker.open,
      ...(state.breaker.openedAt !== undefined ? { openedAt: iso(state.breaker.openedAt) } : {}),
      ...(state.breaker.closesAt !== undefined ? { closesAt: iso(state.breaker.closesAt) } : {}),
      ...(state.breaker.reason ? { reason: state.breaker.reason } : {}),
    },
    recentActions: state.actions.slice(-20).map((a) => ({
      incidentWorkflowId: a.incidentWorkflowId,
      grantedAt: iso(a.grantedAt),
      ...(a.releasedAt !== undefined ? { releasedAt: iso(a.releasedAt) } : {}),
      ...(a.outcome ? { outcome: a.outcome } : {}),
      dryRun: a.dryRun,
      ...(a.approvedBy ? { approvedBy: a.approvedBy } : {}),
    })),
  };
}

// ---- Global budget: actions across all targets ------------------------------------------------

export interface BudgetState {
  /** Spent actions, newest last, kept for a day. */
  spent: Array<{ requestId: string; target: string; at: number }>;
  decided: Array<{ requestId: string; decision: BudgetDecision }>;
}

export type BudgetDecision =
  | { kind: 'granted'; reason: string }
  | { kind: 'denied'; reason: string; refusal?: Refusal };

export interface BudgetRequest {
  requestId: string;
  incidentWorkflowId: string;
  target: string;
  approvedBy?: string;
  dryRun: boolean;
  limits: BudgetLimits;
}

export function newBudgetState(): BudgetState {
  return { spent: [], decided: [] };
}

export function spendBudget(state: BudgetState, request: BudgetRequest, now: number): BudgetDecision {
  const previous = state.decided.find((d) => d.requestId === request.requestId);
  if (previous) return previous.decision;
  state.spent = state.spent.filter((s) => s.at > now - DAY_MS);
  const spentAt = state.spent.map((s) => s.at).sort((a, b) => a - b);
  const hourAt = spentAt.filter((at) => at > now - HOUR_MS);
  const lastHour = hourAt.length;
  const lastDay = spentAt.length;
  const { perHour, perDay } = request.limits;
  let decision: BudgetDecision;
  if (request.dryRun) {
    decision = {
      kind: 'granted',
      reason: `dry run: not counted (${lastHour}/${perHour} this hour)`,
    };
  } else if (!request.approvedBy && lastHour >= perHour) {
    const until = windowEnds(hourAt, perHour, HOUR_MS);
    decision = {
      kind: 'denied',
      reason: `global budget spent: ${lastHour} actions in the last hour across all targets (limit ${perHour})`,
      refusal: { kind: 'budget', ...(until ? { until } : {}) },
    };
  } else if (!request.approvedBy && lastDay >= perDay) {
    const until = windowEnds(spentAt, perDay, DAY_MS);
    decision = {
      kind: 'denied',
      reason: `global budget spent: ${lastDay} actions in the last 24 h across all targets (limit ${perDay})`,
      refusal: { kind: 'budget', ...(until ? { until } : {}) },
    };
  } else {
    state.spent.push({ requestId: request.requestId, target: request.target, at: now });
    decision = {
      kind: 'granted',
      reason: `${lastHour + 1}/${request.limits.perHour} actions this hour, ${lastDay + 1}/${request.limits.perDay} today${request.approvedBy ? ` (approved by ${request.approvedBy})` : ''}`,
    };
  }
  state.decided.push({ requestId: request.requestId, decision });
  if (state.decided.length > 100) state.decided.splice(0, state.decided.length - 100);
  return decision;
}

/** An action that was paid for but did not happen gives its budget back. */
export function refundBudget(state: BudgetState, requestId: string): boolean {
  const before = state.spent.length;
  state.spent = state.spent.filter((s) => s.requestId !== requestId);
  return state.spent.length < before;
}

export interface BudgetSnapshot {
  limits?: BudgetLimits;
  lastHour: number;
  lastDay: number;
}

export function snapshotBudget(state: BudgetState, now: number, limits?: BudgetLimits): BudgetSnapshot {
  return {
    ...(limits ? { limits } : {}),
    lastHour: state.spent.filter((s) => s.at > now - HOUR_MS).length,
    lastDay: state.spent.filter((s) => s.at > now - DAY_MS).length,
  };
}

/** A guard's current details for the Web UI, in words. */
export function describeGuardSnapshot(s: GuardSnapshot): string {
  const lines = [
    `**Guard** for \`${s.target}\`: ${s.holder ? `held by \`${s.holder.incidentWorkflowId}\` until ${s.holder.expiresAt}` : 'free'}`,
    `- ${s.restartsLastHour}/${s.limits.maxRestartsPerHour} restarts in the last hour; cooldown ${s.cooldownRemainingMs > 0 ? `${Math.ceil(s.cooldownRemainingMs / 1000)} s left` : 'over'}`,
    `- breaker ${s.breaker.open ? `OPEN until ${s.breaker.closesAt ?? 'reset'} (${s.breaker.reason ?? 'repeated failures'})` : `closed (${s.consecutiveFailures} failure(s) in a row)`}`,
  ];
  if (s.queued.length > 0) lines.push(`- waiting: ${s.queued.join(', ')}`);
  return lines.join('\n');
}

/** The budget's current details for the Web UI, in words. */
export function describeBudgetSnapshot(s: BudgetSnapshot): string {
  const limits = s.limits ? ` (limits ${s.limits.perHour}/hour, ${s.limits.perDay}/day)` : '';
  return `**Global budget**: ${s.lastHour} action(s) in the last hour, ${s.lastDay} in the last 24 h${limits}`;
}
