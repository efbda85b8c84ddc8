// The action permit: before it acts, an incident holds a lease from `guard-<target>` (one action at a
// time, cooldown, hourly limit, breaker) and then a unit of the global budget. Both answer by signal;
// the lease is given back with the action's outcome, and a cancelled incident still gives it back.
import {
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { BudgetDecision, LeaseDecision, ReleaseOutcome } from '../domain/guard.js';
import { BUDGET_ANSWER_TIMEOUT_MS, leaseTtlMs, secondsText } from '../domain/incident.js';
import { checkPermitAnswer } from '../domain/message-checks.js';
import { budgetWorkflowId, guardWorkflowId, legacyGuardWorkflowId } from '../domain/naming.js';
import { budgetWorkflow, guardWorkflow } from './guard.js';
import { describeFailure, type IncidentRun } from './incident-run.js';
import {
  budgetRefundSignal,
  budgetRequestSignal,
  leaseReleaseSignal,
  leaseRequestSignal,
  permitDecisionSignal,
} from './messages.js';

/** Patch id: the guard is `guard:<host>:<target>` (issue 11); older incidents use `guard-<target>`. */
const GUARD_ID_WITH_HOST = 'guard-id-with-host';

export type Permit = { ok: true; requestId: string } | { ok: false; reason: string };

export class PermitDesk {
  private readonly answers = new Map<string, LeaseDecision | BudgetDecision>();
  /** Lease requests this run has sent and not given up. */
  private readonly outstanding = new Set<string>();
  /** The lease this run holds right now, so a cancelled incident still gives it back. */
  private held: string | undefined;
  readonly guardId: string;
  private readonly budgetId: string;

  constructor(private readonly run: IncidentRun) {
    // Guards are named by host since issue 11; an incident that began under the old name keeps its guard.
    this.guardId = patched(GUARD_ID_WITH_HOST)
      ? guardWorkflowId(run.state.target, run.host)
      : legacyGuardWorkflowId(run.state.target);
    this.budgetId = budgetWorkflowId(workflowInfo().taskQueue);
  }

  /** From the settings in force when asked: the worker's, once the incident adopted them. */
  private get leaseTtlMs(): number {
    return leaseTtlMs(this.run.settings);
  }

  /** Answers from the guard and the budget. */
  listen(): void {
    setHandler(permitDecisionSignal, (answer) => {
      // Only answers to what this run is waiting for: a stale grant, or one meant for an earlier run of
      // the same workflow id, must neither show nor count.
      if (checkPermitAnswer(answer) || !this.outstanding.has(answer.requestId)) return;
      this.answers.set(`${answer.scope}:${answer.requestId}`, answer.decision);
      const { kind, reason } = answer.decision;
      this.run.state.guard = { decision: kind, reason, at: new Date().toISOString() };
      this.run.record(`${answer.scope}-${kind}`, reason);
    });
  }

  /** A lease, then the budget; `approvedBy` names the person whose approval waives the limits. */
  async acquire(approvedBy?: string): Promise<Permit> {
    const requestId = uuid4();
    this.outstanding.add(requestId);
    const lease = await this.askGuard(requestId, approvedBy);
    if (!lease.ok) return lease;
    this.held = requestId;
    const budget = await this.askBudget(requestId, approvedBy);
    if (!budget.ok) {
      await this.release(requestId, 'not-acted');
      return budget;
    }
    return { ok: true, requestId };
  }

  /** Gives the lease back with what happened; an unused budget unit is refunded. */
  async release(requestId: string, outcome: ReleaseOutcome): Promise<void> {
    this.outstanding.delete(requestId);
    if (this.held === requestId) this.held = undefined;
    try {
      await getExternalWorkflowHandle(this.guardId).signal(leaseReleaseSignal, { requestId, outcome });
      if (outcome === 'not-acted' && !this.run.dryRun) {
        await getExternalWorkflowHandle(this.budgetId).signal(budgetRefundSignal, { requestId });
      }
      this.run.record('lease-released', `${outcome}`);
    } catch (err) {
      if (isCancellation(err)) throw err;
      this.run.record('lease-release-failed', describeFailure(err));
    }
  }

  /** The lease held when the incident was cancelled, if any. */
  heldLease(): string | undefined {
    return this.held;
  }

  private async askGuard(requestId: string, approvedBy?: string): Promise<Permit> {
    const { guardId, run } = this;
    await this.ensureRunning(guardId, () =>
      startChild(guardWorkflow, {
        ...childOptions(guardId),
        staticSummary: `guard · ${run.state.target}: one action at a time, cooldown, hourly limit, breaker`,
        args: [{ target: run.state.target }],
      }),
    );
    await getExternalWorkflowHandle(guardId).signal(leaseRequestSignal, {
      requestId,
      incidentWorkflowId: run.state.workflowId,
      action: 'RESTART',
      dryRun: run.dryRun,
      limits: { ...run.settings.guard, leaseTtlMs: this.leaseTtlMs },
      ...(approvedBy ? { approvedBy } : {}),
    });
    const leaseWaitMs = this.leaseTtlMs * 2;
    const leaseWait = { summary: `wait for the lease on ${run.state.target} from ${guardId}` };
    if (!(await condition(() => this.answered(`lease:${requestId}`) !== undefined, leaseWaitMs, leaseWait))) {
      await this.release(requestId, 'not-acted');
      return { ok: false, reason: `${guardId} granted no lease within ${secondsText(leaseWaitMs)}` };
    }
    const lease = this.answered(`lease:${requestId}`) as LeaseDecision;
    if (lease.kind !== 'granted') {
      this.outstanding.delete(requestId);
      return { ok: false, reason: lease.reason };
    }
    return { ok: true, requestId };
  }

  private async askBudget(requestId: string, approvedBy?: string): Promise<Permit> {
    const { budgetId, run } = this;
    await this.ensureRunning(budgetId, () =>
      startChild(budgetWorkflow, {
        ...childOptions(budgetId),
        staticSummary: 'budget · restarts per hour and per day across all targets',
        args: [{}],
      }),
    );
    await getExternalWorkflowHandle(budgetId).signal(budgetRequestSignal, {
      requestId,
      incidentWorkflowId: run.state.workflowId,
      target: run.state.target,
      dryRun: run.dryRun,
      limits: run.settings.budget,
      ...(approvedBy ? { approvedBy } : {}),
    });
    const key = `budget:${requestId}`;
    const budgetAnswered = await condition(() => this.answered(key) !== undefined, BUDGET_ANSWER_TIMEOUT_MS, {
      summary: `wait for a unit of the global budget from ${budgetId}`,
    });
    const budget = this.answered(key);
    if (budgetAnswered && budget?.kind === 'granted') return { ok: true, requestId };
    const timedOut = `${budgetId} did not answer within ${secondsText(BUDGET_ANSWER_TIMEOUT_MS)}`;
    return { ok: false, reason: budget?.reason ?? timedOut };
  }

  private answered(key: string) {
    const answer = this.answers.get(key);
    return answer !== undefined && answer.kind !== 'queued' ? answer : undefined;
  }

  /** Guards are long-lived and shared; whoever needs one first starts it, and it outlives us. */
  private async ensureRunning(workflowId: string, start: () => Promise<unknown>) {
    try {
      await start();
      this.run.record('guard-started', `started ${workflowId}`);
    } catch (err) {
      if (!(err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError')) throw err;
    }
  }
}

const childOptions = (workflowId: string) => ({ workflowId, parentClosePolicy: ParentClosePolicy.ABANDON });
