// The API's only door into Temporal: start-or-join, read and decide incidents.
import {
  type Client,
  isGrpcServiceError,
  type WorkflowExecutionInfo,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { IncidentSettings } from '../config.js';
import type { BudgetSnapshot, GuardSnapshot } from '../domain/guard.js';
import { DEFAULT_LOG_LIMITS, type LogLimits } from '../domain/log-bounds.js';
import { budgetWorkflowId, guardWorkflowId, incidentWorkflowId } from '../domain/naming.js';
import { sanitiseAlert } from '../domain/sanitise.js';
import type {
  Alert,
  DecisionPayload,
  IncidentState,
  IncidentStatus,
  ResolvedPayload,
} from '../domain/types.js';
import type { incidentWorkflow } from '../workflows/incident.js';
import {
  alertSignal,
  approveSignal,
  budgetStateQuery,
  guardStateQuery,
  rejectSignal,
  resetBreakerSignal,
  resolvedSignal,
  statusQuery,
} from '../workflows/messages.js';
import {
  DiagnosisSourceKey,
  IncidentSeverityKey,
  IncidentStatusKey,
  IncidentTargetKey,
} from '../workflows/search-attributes.js';
import { HttpError } from './errors.js';

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
/** A sender waits at most this long; past it, 503 tells it to retry (Alertmanager does). */
const ACCEPT_DEADLINE_MS = 5000;
const INCIDENT_WORKFLOW_TYPE = 'incidentWorkflow';

/** Temporal could not take or answer the request: the caller should retry later (503). */
function unavailable(err: unknown): HttpError {
  const message = err instanceof Error ? err.message : String(err);
  return new HttpError(503, 'temporal_unavailable', `Temporal is unavailable: ${message}`, undefined, {
    'Retry-After': '5',
  });
}

function translate(err: unknown, workflowId: string): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === 5)) {
    return new HttpError(404, 'incident_not_found', `no incident ${workflowId}`);
  }
  return unavailable(err);
}

export class IncidentGateway {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly settings: IncidentSettings,
    private readonly logLimits: LogLimits = DEFAULT_LOG_LIMITS,
  ) {}

  /** Starts the incident or signals the open one; resolves once Temporal has durably accepted the alert. */
  async openOrJoin(alert: Alert): Promise<{ workflowId: string; runId: string }> {
    const workflowId = incidentWorkflowId(alert.target, alert.alertType);
    try {
      const handle = await this.client.withDeadline(Date.now() + ACCEPT_DEADLINE_MS, () =>
        this.client.workflow.signalWithStart<typeof incidentWorkflow, [Alert]>(INCIDENT_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: this.taskQueue,
          args: [{ target: alert.target, alertType: alert.alertType, settings: this.settings }],
          signal: alertSignal,
          // Every source's alert passes here: nothing unbounded or unredacted reaches Temporal.
          signalArgs: [sanitiseAlert(alert, this.logLimits)],
          workflowIdConflictPolicy: 'USE_EXISTING',
          memo: { target: alert.target, alertType: alert.alertType },
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
      throw unavailable(err);
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
  ): Promise<{ workflowId: string; delivered: boolean }> {
    const workflowId = incidentWorkflowId(target, alertType);
    try {
      await this.client.withDeadline(Date.now() + ACCEPT_DEADLINE_MS, () =>
        this.client.workflow.getHandle(workflowId).signal(resolvedSignal, payload),
      );
      return { workflowId, delivered: true };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === 5)) {
        return { workflowId, delivered: false };
      }
      throw unavailable(err);
    }
  }

  async get(workflowId: string): Promise<IncidentState> {
    try {
      const handle = this.client.workflow.getHandle(workflowId);
      return await this.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(statusQuery));
    } catch (err) {
      throw translate(err, workflowId);
    }
  }

  async list(filter: {
    status?: IncidentStatus;
    target?: string;
    limit: number;
  }): Promise<IncidentSummary[]> {
    const clauses = [`WorkflowType = '${INCIDENT_WORKFLOW_TYPE}'`];
    if (filter.status) clauses.push(`IncidentStatus = '${filter.status}'`);
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
      throw unavailable(err);
    }
    return out;
  }

  /** A target's guard and the global budget, as their queries answer; 404 before the first action. */
  async guard(target: string): Promise<{ guard: GuardSnapshot; budget: BudgetSnapshot | null }> {
    const guardId = guardWorkflowId(target);
    let guard: GuardSnapshot;
    try {
      guard = await this.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        this.client.workflow.getHandle(guardId).query(guardStateQuery),
      );
    } catch (err) {
      const translated = translate(err, guardId);
      if (translated.status === 404) {
        throw new HttpError(404, 'guard_not_found', `no guard for ${target} yet: Medic has not acted on it`);
      }
      throw translated;
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
      if (translate(err, 'budget').status !== 404) throw unavailable(err);
    }
    return { guard, budget };
  }

  /** Asks the target's guard to close its circuit breaker. */
  async resetBreaker(target: string, by: string): Promise<void> {
    const guardId = guardWorkflowId(target);
    try {
      await this.client.workflow.getHandle(guardId).signal(resetBreakerSignal, { by });
    } catch (err) {
      const translated = translate(err, guardId);
      if (translated.status === 404) {
        throw new HttpError(
          404,
          'guard_not_found',
          `no guard for ${target} yet: there is no breaker to reset`,
        );
      }
      throw translated;
    }
  }

  /** Signals approve/reject; 409 unless the incident is waiting for exactly that. */
  async decide(
    workflowId: string,
    verdict: 'approve' | 'reject',
    payload: DecisionPayload,
  ): Promise<IncidentState> {
    const state = await this.get(workflowId);
    if (state.status !== 'AWAITING_APPROVAL') {
      throw new HttpError(
        409,
        'not_awaiting_approval',
        `incident ${workflowId} is ${state.status}, not AWAITING_APPROVAL; nothing to ${verdict}`,
      );
    }
    try {
      await this.client.workflow
        .getHandle(workflowId)
        .signal(verdict === 'approve' ? approveSignal : rejectSignal, payload);
    } catch (err) {
      throw translate(err, workflowId);
    }
    return state;
  }
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
