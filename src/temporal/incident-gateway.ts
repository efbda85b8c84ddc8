// Medic's Temporal client for incidents: start-or-join, read, decide, and find open incidents. The API, the
// engine watch and the tests go through it; it throws the typed errors of ./errors.ts, never HTTP ones.

import { randomUUID } from 'node:crypto';
import {
  ApplicationFailure,
  type Client,
  isGrpcServiceError,
  type WorkflowExecutionInfo,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { BudgetSnapshot, GuardSnapshot } from '../domain/guard.js';
import { incidentStaticDetails, incidentSummary } from '../domain/incident-story.js';
import { DEFAULT_LOG_LIMITS, type LogLimits } from '../domain/log-bounds.js';
import {
  budgetWorkflowId,
  guardWorkflowId,
  hostOfIncidentId,
  incidentWorkflowId,
  LOCAL_HOST,
  legacyGuardWorkflowId,
  legacyIncidentWorkflowId,
} from '../domain/naming.js';
import { sanitiseAlert } from '../domain/sanitise.js';
import type { IncidentSettings } from '../domain/settings.js';
import type { DeskMessage } from '../domain/target-desk.js';
import { classifyRaiseFailure } from '../domain/temporal-failure.js';
import type {
  Alert,
  DecisionPayload,
  DecisionResult,
  IncidentState,
  IncidentStatus,
  RefusedDecision,
  ResolvedPayload,
} from '../domain/types.js';
import type { incidentWorkflow } from '../workflows/index.js';
import {
  API_UPDATE_ID_PREFIX,
  alertSignal,
  approveUpdate,
  budgetStateQuery,
  DECISION_EXPIRED,
  decisionRefusedSignal,
  guardStateQuery,
  NOT_AWAITING_APPROVAL,
  rejectUpdate,
  resetBreakerSignal,
  resolvedSignal,
  SLACK_UPDATE_ID_PREFIX,
  statusQuery,
  targetDeskSignal,
} from '../workflows/messages.js';
import {
  DiagnosisSourceKey,
  IncidentSeverityKey,
  IncidentStatusKey,
  IncidentTargetKey,
} from '../workflows/search-attributes.js';
import { WORKFLOW_TYPES } from '../workflows/workflow-types.js';
import {
  DecisionTimeoutError,
  GuardNotFoundError,
  IncidentNotFoundError,
  InvalidDecisionError,
  NotAwaitingApprovalError,
  TemporalUnavailableError,
} from './errors.js';
import { type IncidentHistory, readIncidentHistory } from './incident-history.js';
import type { IncidentPort } from './incident-port.js';

export interface IncidentSummary {
  workflowId: string;
  runId: string;
  target?: string;
  alertType?: string;
  status?: string;
  severity?: string;
  diagnosisSource?: string;
  startedAt: string;
  closedAt?: string;
  workflowStatus: string;
}

const QUERY_DEADLINE_MS = 5000;
/** GET /stats reads visibility and up to its limit of histories: all of it within this. */
const HISTORY_DEADLINE_MS = 20_000;
/** A sender waits at most this long; past it, it is told to retry (Alertmanager does). */
const ACCEPT_DEADLINE_MS = 5000;

function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === 5);
}

/**
 * Temporal unavailable (down, slow, overloaded, unreachable) is the caller's cue to retry later; anything
 * else (Temporal refused this very request, or a bug in Medic) is passed on as it is, never dressed as an
 * outage: a sender told 503 retries forever.
 */
function unavailableOr(err: unknown): Error {
  if (err instanceof TemporalUnavailableError) return err;
  if (classifyRaiseFailure(err) === 'unavailable') return new TemporalUnavailableError(err);
  return err instanceof Error ? err : new Error(String(err));
}

/** A missing incident is the caller's mistake; an outage a reason to retry; anything else a bug. */
function translate(err: unknown, workflowId: string): Error {
  if (err instanceof IncidentNotFoundError) return err;
  if (isNotFound(err)) return new IncidentNotFoundError(workflowId);
  return unavailableOr(err);
}

/**
 * Runs `action` on the first of `ids` that exists: a workflow keeps the id it started under until it
 * finishes, and ids without a host part may still be running, so readers try the id with the host first.
 */
async function onFirstExisting<T>(
  ids: readonly string[],
  action: (id: string) => Promise<T>,
): Promise<[string, T]> {
  for (const [i, id] of ids.entries()) {
    try {
      return [id, await action(id)];
    } catch (err) {
      if (!isNotFound(err) || i === ids.length - 1) throw err;
    }
  }
  throw new Error('onFirstExisting needs at least one id');
}

export class IncidentGateway implements IncidentPort {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly settings: IncidentSettings,
    private readonly logLimits: LogLimits = DEFAULT_LOG_LIMITS,
  ) {}

  async openOrJoin(alert: Alert): Promise<{ workflowId: string; runId: string }> {
    const host = alert.host ?? LOCAL_HOST;
    const workflowId = incidentWorkflowId(alert.target, alert.alertType, host);
    try {
      const handle = await this.client.withDeadline(Date.now() + ACCEPT_DEADLINE_MS, () =>
        this.client.workflow.signalWithStart<typeof incidentWorkflow, [Alert]>(WORKFLOW_TYPES.incident, {
          workflowId,
          taskQueue: this.taskQueue,
          args: [{ target: alert.target, alertType: alert.alertType, host, settings: this.settings }],
          signal: alertSignal,
          // Every source's alert passes here: nothing unbounded or unredacted reaches Temporal.
          signalArgs: [sanitiseAlert(alert, this.logLimits)],
          workflowIdConflictPolicy: 'USE_EXISTING',
          // The Web UI's list shows this line; the details follow the incident (setCurrentDetails).
          staticSummary: incidentSummary(alert.target, alert.alertType),
          staticDetails: incidentStaticDetails(workflowId, alert.target, alert.alertType),
          memo: { target: alert.target, alertType: alert.alertType, host },
          typedSearchAttributes: !this.settings.searchAttributes
            ? []
            : [
                { key: IncidentTargetKey, value: alert.target },
                { key: IncidentStatusKey, value: 'OPEN' },
                { key: IncidentSeverityKey, value: alert.severity },
              ],
        }),
      );
      return { workflowId, runId: handle.signaledRunId };
    } catch (err) {
      throw unavailableOr(err);
    }
  }

  /**
   * Tells the open incident that its sender reports the alert resolved. `delivered: false` when no
   * incident of that id is open (it closed already, or it never fired): nothing to do then.
   */
  async resolve(
    target: string,
    alertType: string,
    payload: ResolvedPayload,
    host: string = LOCAL_HOST,
  ): Promise<{ workflowId: string; delivered: boolean }> {
    // Ids without a host part are the local host's.
    const ids = [incidentWorkflowId(target, alertType, host)];
    if (host === LOCAL_HOST) ids.push(legacyIncidentWorkflowId(target, alertType));
    try {
      const [workflowId] = await onFirstExisting(ids, (id) =>
        this.client.withDeadline(Date.now() + ACCEPT_DEADLINE_MS, () =>
          this.client.workflow.getHandle(id).signal(resolvedSignal, payload),
        ),
      );
      return { workflowId, delivered: true };
    } catch (err) {
      if (isNotFound(err)) return { workflowId: ids[0] as string, delivered: false };
      throw unavailableOr(err);
    }
  }

  async get(workflowId: string, deadlineMs = QUERY_DEADLINE_MS): Promise<IncidentState> {
    try {
      const handle = this.client.workflow.getHandle(workflowId);
      return await this.client.withDeadline(Date.now() + deadlineMs, () => handle.query(statusQuery));
    } catch (err) {
      throw translate(err, workflowId);
    }
  }

  async list(filter: {
    status?: IncidentStatus;
    target?: string;
    /** Only incidents that have ended (newest first): running ones sort ahead of every closed one. */
    closed?: boolean;
    limit: number;
  }): Promise<IncidentSummary[]> {
    const clauses = [`WorkflowType = '${WORKFLOW_TYPES.incident}'`];
    if (filter.status) clauses.push(`IncidentStatus = '${filter.status}'`);
    if (filter.closed) clauses.push(`ExecutionStatus != 'Running'`);
    if (filter.target) clauses.push(`IncidentTarget = '${filter.target}'`);
    const out: IncidentSummary[] = [];
    try {
      for await (const info of this.client.workflow.list({
        query: clauses.join(' AND '),
        pageSize: filter.limit,
      })) {
        out.push(summarise(info));
        if (out.length >= filter.limit) break;
      }
    } catch (err) {
      throw unavailableOr(err);
    }
    return out;
  }

  /** The incidents that ended since `sinceMs`, with their recorded states (GET /stats), within a deadline. */
  async history(sinceMs: number, limit: number): Promise<IncidentHistory> {
    try {
      return await this.client.withDeadline(Date.now() + HISTORY_DEADLINE_MS, () =>
        readIncidentHistory(this.client, {
          namespace: this.client.options.namespace,
          sinceMs,
          limit,
        }),
      );
    } catch (err) {
      throw unavailableOr(err);
    }
  }

  /** Running incidents, and those of them awaiting approval, as Temporal's visibility counts them. */
  async countRunning(): Promise<{ running: number; awaitingApproval: number }> {
    const running = `WorkflowType = '${WORKFLOW_TYPES.incident}' AND ExecutionStatus = 'Running'`;
    try {
      const [all, waiting] = await this.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        Promise.all([
          this.client.workflow.count(running),
          this.settings.searchAttributes
            ? this.client.workflow.count(`${running} AND IncidentStatus = 'AWAITING_APPROVAL'`)
            : Promise.resolve({ count: 0 }),
        ]),
      );
      return { running: all.count, awaitingApproval: waiting.count };
    } catch (err) {
      throw unavailableOr(err);
    }
  }

  /** A target's guard and the global budget, as their queries answer; GuardNotFoundError before the first action. */
  async guard(
    target: string,
    host: string = LOCAL_HOST,
  ): Promise<{ guard: GuardSnapshot; budget: BudgetSnapshot | null }> {
    let guard: GuardSnapshot;
    try {
      [, guard] = await onFirstExisting(guardIds(target, host), (id) =>
        this.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
          this.client.workflow.getHandle(id).query(guardStateQuery),
        ),
      );
    } catch (err) {
      if (isNotFound(err)) throw new GuardNotFoundError(target, 'Medic has not acted on it');
      throw unavailableOr(err);
    }
    // The query answers with the guard's clock at its last step; the cooldown left is as of now.
    if (guard.lastActionAt) {
      const endsAt = Date.parse(guard.lastActionAt) + guard.limits.cooldownMs;
      guard = { ...guard, cooldownRemainingMs: Math.max(0, endsAt - Date.now()) };
    }
    let budget: BudgetSnapshot | null = null;
    try {
      budget = await this.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        this.client.workflow.getHandle(budgetWorkflowId(this.taskQueue)).query(budgetStateQuery),
      );
    } catch (err) {
      if (!isNotFound(err)) throw unavailableOr(err);
    }
    return { guard, budget };
  }

  /** Asks the target's guard to close its circuit breaker. */
  async resetBreaker(target: string, by: string, host: string = LOCAL_HOST): Promise<void> {
    try {
      await onFirstExisting(guardIds(target, host), (id) =>
        this.client.workflow.getHandle(id).signal(resetBreakerSignal, { by }),
      );
    } catch (err) {
      if (isNotFound(err)) throw new GuardNotFoundError(target, 'there is no breaker to reset');
      throw unavailableOr(err);
    }
  }

  async tellTarget(target: string, host: string, message: DeskMessage): Promise<void> {
    try {
      await this.client.withDeadline(Date.now() + ACCEPT_DEADLINE_MS, () =>
        this.client.workflow.getHandle(guardWorkflowId(target, host)).signal(targetDeskSignal, message),
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw unavailableOr(err);
    }
  }

  async findOpenIncident(
    target: string,
    alertType: string,
    options: { searchAttributes: boolean; host?: string },
  ): Promise<string | undefined> {
    const host = options.host ?? LOCAL_HOST;
    const ownIds = [incidentWorkflowId(target, alertType, host)];
    if (host === LOCAL_HOST) ownIds.push(legacyIncidentWorkflowId(target, alertType));
    for (const ownId of ownIds) {
      try {
        const description = await this.client.workflow.getHandle(ownId).describe();
        if (description.status.name === 'RUNNING') return ownId;
      } catch {
        // none with this id
      }
    }
    if (!options.searchAttributes) return undefined;
    const query = `WorkflowType = '${WORKFLOW_TYPES.incident}' AND ExecutionStatus = 'Running' AND ${IncidentTargetKey.name} = '${target}'`;
    for await (const info of this.client.workflow.list({ query, pageSize: 20 })) {
      // A container of the same name on another host is another container.
      if (hostOfIncidentId(info.workflowId) !== host) continue;
      const status = info.typedSearchAttributes.get(IncidentStatusKey);
      return `${info.workflowId}${status ? ` (${status})` : ''}`;
    }
    return undefined;
  }

  /** Tells the incident of a decision refused before it reached it, for its timeline; a closed one is not told. */
  async tellRefusal(workflowId: string, refused: RefusedDecision): Promise<void> {
    try {
      await this.client.withDeadline(Date.now() + ACCEPT_DEADLINE_MS, () =>
        this.client.workflow.getHandle(workflowId).signal(decisionRefusedSignal, refused),
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw unavailableOr(err);
    }
  }

  /**
   * Decides through the `approve` / `reject` Update, which answers once the decision is taken. The
   * Update id is `api:` + the caller's idempotency key, so a retried request gets the first answer, even
   * after the incident has finished. NotAwaitingApprovalError when the incident waits for no decision;
   * DecisionTimeoutError when no worker took the Update within `timeoutMs` (nothing was decided).
   */
  async decide(
    workflowId: string,
    verdict: 'approve' | 'reject',
    payload: DecisionPayload,
    options: {
      idempotencyKey?: string;
      /** The whole Update id, for channels other than the API's (Slack: `slack:<action_ts>:<user>`). */
      updateId?: string;
      timeoutMs: number;
    },
  ): Promise<DecisionResult> {
    const updateId = options.updateId ?? `${API_UPDATE_ID_PREFIX}${options.idempotencyKey ?? randomUUID()}`;
    const update = verdict === 'approve' ? approveUpdate : rejectUpdate;
    // The whole answer fits in the timeout: most of it for the Update, the rest to read what happened.
    // An Update still undelivered when the caller stops waiting is refused by the incident (notAfter).
    const readMs = Math.max(500, Math.round(options.timeoutMs / 5));
    const updateDeadline = Date.now() + options.timeoutMs - readMs;
    const notAfter = new Date(updateDeadline).toISOString();
    try {
      return await this.client.withDeadline(updateDeadline, () =>
        this.client.workflow
          .getHandle(workflowId)
          .executeUpdate(update, { args: [{ ...payload, notAfter }], updateId }),
      );
    } catch (err) {
      const refusal = refusedDecision(err, workflowId, verdict);
      if (refusal) throw refusal;
      const timedOut =
        err instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
        (isGrpcServiceError(err) && err.code === GRPC_DEADLINE_EXCEEDED);
      if (!timedOut && !isNotFound(err)) throw unavailableOr(err);
      // Taken after all (the answer was late, or this retries a decision of an incident now closed)? Without
      // a worker the incident cannot be read either: then nothing was decided, and nothing will be.
      const state = await this.get(workflowId, readMs).catch((readError) => {
        if (timedOut) throw new DecisionTimeoutError(workflowId, options.timeoutMs);
        throw readError;
      });
      const approval = state.approval;
      if (approval?.updateId === updateId && approval.decidedBy) {
        const approved = approval.decision === 'approved';
        const status = approved ? 'REMEDIATING' : 'REJECTED';
        return { workflowId, decision: approved ? 'approve' : 'reject', by: approval.decidedBy, status };
      }
      // Undelivered: it carries notAfter, so the incident refuses it if it ever arrives.
      if (timedOut) throw new DecisionTimeoutError(workflowId, options.timeoutMs);
      throw new NotAwaitingApprovalError(workflowId, state.status, verdict);
    }
  }
}

const GRPC_DEADLINE_EXCEEDED = 4;

/** The Update id of a Slack click: its channel is `slack`, and a resent click is the same Update. */
export function slackUpdateId(actionTs: string, user: string): string {
  return `${SLACK_UPDATE_ID_PREFIX}${actionTs}:${user}`;
}

/** A target's guard ids, `guard:<host>:<target>` first; the older `guard-<target>` is the local host's. */
function guardIds(target: string, host: string): string[] {
  return host === LOCAL_HOST
    ? [guardWorkflowId(target, host), legacyGuardWorkflowId(target)]
    : [guardWorkflowId(target, host)];
}

/** The Update's validator refused: the incident awaits no decision (409), or the payload is malformed. */
function refusedDecision(err: unknown, workflowId: string, verdict: 'approve' | 'reject'): Error | undefined {
  if (!(err instanceof WorkflowUpdateFailedError) || !(err.cause instanceof ApplicationFailure))
    return undefined;
  if (err.cause.type === DECISION_EXPIRED) return new DecisionTimeoutError(workflowId, 0, err.cause.message);
  if (err.cause.type === NOT_AWAITING_APPROVAL) {
    const [status] = (err.cause.details ?? []) as string[];
    return new NotAwaitingApprovalError(workflowId, status ?? 'unknown', verdict);
  }
  return new InvalidDecisionError(err.cause.message);
}

function summarise(info: WorkflowExecutionInfo): IncidentSummary {
  const sa = info.typedSearchAttributes;
  const memo = (info.memo ?? {}) as { target?: string; alertType?: string };
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    target: sa.get(IncidentTargetKey) ?? memo.target,
    alertType: memo.alertType,
    status: sa.get(IncidentStatusKey),
    severity: sa.get(IncidentSeverityKey),
    diagnosisSource: sa.get(DiagnosisSourceKey),
    startedAt: info.startTime.toISOString(),
    ...(info.closeTime ? { closedAt: info.closeTime.toISOString() } : {}),
    workflowStatus: info.status.name,
  };
}
