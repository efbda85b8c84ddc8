// Signals and queries shared by the workflows and every client (API, CLI, Web UI, tests).
// The names are a contract: `temporal workflow signal --name approve` relies on them.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SweepSettings } from '../domain/anomaly.js';
import type {
  BudgetDecision,
  BudgetRequest,
  BudgetSnapshot,
  GuardSnapshot,
  HealthyImage,
  LeaseDecision,
  LeaseRequest,
  ReleaseOutcome,
} from '../domain/guard.js';
import type { RunbookAnswer, RunbookRequest } from '../domain/runbook.js';
import type { DeskMessage, TargetNews } from '../domain/target-desk.js';
import type {
  Alert,
  DecisionChannel,
  DecisionPayload,
  DecisionResult,
  IncidentState,
  PassedDecision,
  RefusedDecision,
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
/** Update ids of decisions taken in Slack (`slack:<action_ts>:<user>`): the channel `slack`. */
export const SLACK_UPDATE_ID_PREFIX = 'slack:';

/** The channel a decision Update came through, read from its id's prefix. */
export function decisionChannelOf(updateId: string | undefined): DecisionChannel {
  if (updateId?.startsWith(API_UPDATE_ID_PREFIX)) return 'api';
  if (updateId?.startsWith(SLACK_UPDATE_ID_PREFIX)) return 'slack';
  return 'temporal-update';
}
/** A decision Medic's API refused before it reached the incident (Slack: an unlisted user, a stale click). */
export const decisionRefusedSignal = defineSignal<[RefusedDecision]>('decisionRefused');
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
/** A target was verified healthy on an image (sent by host workers only when it changed): rollback's record. */
export const healthyImageSignal = defineSignal<[HealthyImage]>('healthyImage');

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

// ---- The sweeper: one long-lived workflow per host ------------------------------------------

/** New sweep settings (every worker start of the host sends its own). */
export const sweepSettingsSignal = defineSignal<[SweepSettings]>('sweepSettings');
/** Report this anomaly again if it is still there: its incident ended without a verified recovery. */
export const forgetAnomalySignal = defineSignal<[{ target: string; check: string }]>('forgetAnomaly');

// ---- One target's incidents: its question, who waits on it, its restarts --------------------

/** To a target's guard, from its incidents and the engine watch (domain/target-desk.ts). */
export const targetDeskSignal = defineSignal<[DeskMessage]>('targetDesk');
/** From a target's guard to its incidents: who owns the question, who joined it, its restarts. */
export const targetNewsSignal = defineSignal<[TargetNews]>('targetNews');
/** A decision taken on one incident of a joined question, passed to the other (`via` names the first). */
export const passedDecisionSignal = defineSignal<[PassedDecision]>('passedDecision');

// ---- The runbook's desk ------------------------------------------------------------------------

/** A request to the runbook's single writer (list, disable, enable), answered once the writer did it. */
export const runbookUpdate = defineUpdate<RunbookAnswer, [RunbookRequest]>('runbook');
