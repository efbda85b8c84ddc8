// Signals and queries shared by the workflows and every client (API, CLI, Web UI, tests).
// The names are a contract: `temporal workflow signal --name approve` relies on them.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  BudgetDecision,
  BudgetRequest,
  BudgetSnapshot,
  GuardSnapshot,
  LeaseDecision,
  LeaseRequest,
  ReleaseOutcome,
} from '../domain/guard.js';
import type {
  Alert,
  DecisionPayload,
  DecisionResult,
  IncidentState,
  ResolvedPayload,
} from '../domain/types.js';

/** A (possibly duplicate) alert for this incident; sent with signalWithStart. */
export const alertSignal = defineSignal<[Alert]>('alert');
/** The sender reports the alert resolved: before Medic acted, the incident closes as recovered by itself. */
export const resolvedSignal = defineSignal<[ResolvedPayload]>('resolved');
export const approveSignal = defineSignal<[DecisionPayload]>('approve');
export const rejectSignal = defineSignal<[DecisionPayload]>('reject');
export const statusQuery = defineQuery<IncidentState>('status');
/**
 * Decisions as Updates: the validator refuses (nothing written to history) unless the incident awaits
 * approval and the payload is well formed; the answer comes once the decision is taken. The API sends its
 * Updates with ids starting `api:` (its Idempotency-Key), so the decision records the channel `api`.
 */
export const approveUpdate = defineUpdate<DecisionResult, [DecisionPayload]>('approve');
export const rejectUpdate = defineUpdate<DecisionResult, [DecisionPayload]>('reject');
/** Update ids the API sends start with this; any other Update came through Temporal itself. */
export const API_UPDATE_ID_PREFIX = 'api:';
/** Refusals of a decision Update, by failure type: the API answers 409 for the first, 400 for the second. */
export const NOT_AWAITING_APPROVAL = 'NotAwaitingApproval';
export const INVALID_DECISION = 'InvalidDecision';
/** The decision arrived after its `notAfter`: the API already told its caller nothing was decided. */
export const DECISION_EXPIRED = 'DecisionExpired';

// ---- Guards: one per target (`guard:<host>:<target>`) and one global budget ---------------

export const leaseRequestSignal = defineSignal<[LeaseRequest]>('leaseRequest');
export const leaseReleaseSignal =
  defineSignal<[{ requestId: string; outcome: ReleaseOutcome }]>('leaseRelease');
/** A person closes an open circuit breaker (`POST /guards/:target/reset`, or the Web UI). */
export const resetBreakerSignal = defineSignal<[{ by: string }]>('resetBreaker');
export const guardStateQuery = defineQuery<GuardSnapshot>('guardState');

export const budgetRequestSignal = defineSignal<[BudgetRequest]>('budgetRequest');
export const budgetRefundSignal = defineSignal<[{ requestId: string }]>('budgetRefund');
export const budgetStateQuery = defineQuery<BudgetSnapshot>('budgetState');

/** A guard's or the budget's answer to an incident's request. */
export interface PermitAnswer {
  requestId: string;
  scope: 'lease' | 'budget';
  decision: LeaseDecision | BudgetDecision;
}
export const permitDecisionSignal = defineSignal<[PermitAnswer]>('permitDecision');
