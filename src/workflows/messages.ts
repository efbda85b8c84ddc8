// Signals and queries shared by the workflows and every client (API, CLI, Web UI, tests).
// The names are a contract: `temporal workflow signal --name approve` relies on them.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type {
  BudgetDecision,
  BudgetRequest,
  BudgetSnapshot,
  GuardSnapshot,
  LeaseDecision,
  LeaseRequest,
  ReleaseOutcome,
} from '../domain/guard.js';
import type { Alert, DecisionPayload, IncidentState, ResolvedPayload } from '../domain/types.js';

/** A (possibly duplicate) alert for this incident; sent with signalWithStart. */
export const alertSignal = defineSignal<[Alert]>('alert');
/** The sender reports the alert resolved: before Medic acted, the incident closes as recovered by itself. */
export const resolvedSignal = defineSignal<[ResolvedPayload]>('resolved');
export const approveSignal = defineSignal<[DecisionPayload]>('approve');
export const rejectSignal = defineSignal<[DecisionPayload]>('reject');
export const statusQuery = defineQuery<IncidentState>('status');

// ---- Guards: one per target (`guard-<target>`) and one global budget ------------------------

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
