// The action permit: before it acts, an incident holds a lease from `guard-<target>` (one action at a
// time, cooldown, hourly limit, breaker) and a unit of the global budget. Both answer by signal; since
// patch `permit-one-trip` both are asked at once (one round trip, not two), and whichever is refused
// gives the other back. The lease is given back with the action's outcome, and a cancelled incident
// still gives it back.
import {
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
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
import { describeFailure } from './incident/failures.js';
import type { IncidentRun } from './incident/run.js';
import {
  budgetRefundSignal,
  budgetRequestSignal,
  leaseReleaseSignal,
  leaseRequestSignal,
  permitDecisionSignal,
} from './messages.js';
import { isPatched } from './versions.js';

export type Permit = { ok: true; requestId: string } | { ok: false; reason: string };

export class PermitDesk {
  private readonly answers = new Map<string, LeaseDecision | BudgetDecision>();
  /** Lease requests this run has sent and not given up. */
  private readonly outstanding = new Set<string>();
  /** A lease request's budget request, when it is not the same id (asked again after a queued lease). */
  private readonly budgetRequests = new Map<string, string>();
  /** The lease this run holds right now, so a cancelled incident still gives it back. */
  private held: string | undefined;
  readonly guardId: string;
  private readonly budgetId: string;

  constructor(private readonly run: IncidentRun) {
    // Guards are named by host since issue 11; an incident that began under the old name keeps its guard.
    this.guardId = isPatched('guard-id-with-host')
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

  /** A lease and a unit of the budget; `approvedBy` names the person whose approval waives the limits. */
  async acquire(approvedBy?: string): Promise<Permit> {
    const requestId = uuid4();
    this.outstanding.add(requestId);
    if (!isPatched('permit-one-trip')) return this.acquireInTurn(requestId, approvedBy);
    // Held from the asking on: an incident cancelled while it waits gives back whatever it was granted.
    this.held = requestId;
    let leaseDecided = false;
    const leaseAsked = this.askGuard(requestId, approvedBy, true).finally(() => {
      leaseDecided = true;
    });
    let budget = await this.askBudget(requestId, approvedBy, true);
    // The guard answers at once: granted, refused, or queued behind the incident acting on the target now.
    // A unit spent while the request waits in line would sit idle and could refuse other targets'
    // incidents: it goes back, and is asked for again once the lease is granted.
    await condition(() => leaseDecided || this.answers.has(`lease:${requestId}`));
    const queued = !leaseDecided && this.answers.get(`lease:${requestId}`)?.kind === 'queued';
    if (queued && budget.ok) await this.refund(requestId);
    const lease = await leaseAsked;
    if (!lease.ok) {
      this.held = undefined;
      // Refused (or given back by the wait's end): a unit that may have been spent goes back too.
      const spent = !queued && this.answers.get(`budget:${requestId}`)?.kind !== 'denied';
      if (this.outstanding.delete(requestId) && spent) await this.refund(requestId);
      this.showDecision('lease', requestId, lease.reason);
      return lease;
    }
    if (queued) budget = await this.askBudgetAgain(requestId, approvedBy);
    this.showDecision('budget', this.budgetRequest(requestId), budget.ok ? '' : budget.reason);
    if (!budget.ok) {
      await this.release(requestId, 'not-acted');
      return budget;
    }
    return { ok: true, requestId };
  }

  /** After a queued lease is granted: a unit of the budget, under a request id of its own. */
  private askBudgetAgain(requestId: string, approvedBy?: string): Promise<Permit> {
    const again = `${requestId}:granted`;
    this.budgetRequests.set(requestId, again);
    this.outstanding.add(again);
    return this.askBudget(again, approvedBy, true);
  }

  /** The budget request that spent (or asked for) the unit of a lease request. */
  private budgetRequest(requestId: string): string {
    return this.budgetRequests.get(requestId) ?? requestId;
  }

  /** The incident's `guard` state: the answer that decided, whichever came last. */
  private showDecision(scope: 'lease' | 'budget', requestId: string, reason: string) {
    const final = this.answered(`${scope}:${requestId}`);
    this.run.state.guard = {
      decision: final?.kind ?? 'denied',
      reason: final?.reason ?? reason,
      at: new Date().toISOString(),
    };
  }

  /** Before patch `permit-one-trip`: the lease, then the budget. */
  private async acquireInTurn(requestId: string, approvedBy?: string): Promise<Permit> {
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
      if (outcome === 'not-acted') await this.refund(requestId);
      this.run.record('lease-released', `${outcome}`);
    } catch (err) {
      if (isCancellation(err)) throw err;
      this.run.record('lease-release-failed', describeFailure(err));
    }
  }

  /** A unit of the budget that was not used goes back; a dry run spent none. */
  private async refund(requestId: string): Promise<void> {
    if (this.run.dryRun) return;
    await getExternalWorkflowHandle(this.budgetId).signal(budgetRefundSignal, {
      requestId: this.budgetRequest(requestId),
    });
  }

  /** The lease held when the incident was cancelled, if any. */
  heldLease(): string | undefined {
    return this.held;
  }

  /** `oneTrip`: signalled first and started only if it is not there, and the refusal left to `acquire`. */
  private async askGuard(
    requestId: string,
    approvedBy: string | undefined,
    oneTrip = false,
  ): Promise<Permit> {
    const { guardId, run } = this;
    const start = () =>
      startChild(guardWorkflow, {
        ...childOptions(guardId),
        staticSummary: `guard · ${run.state.target}: one action at a time, cooldown, hourly limit, breaker`,
        args: [{ target: run.state.target }],
      });
    const ask = () =>
      getExternalWorkflowHandle(guardId).signal(leaseRequestSignal, {
        requestId,
        incidentWorkflowId: run.state.workflowId,
        action: 'RESTART',
        dryRun: run.dryRun,
        limits: { ...run.settings.guard, leaseTtlMs: this.leaseTtlMs },
        ...(approvedBy ? { approvedBy } : {}),
      });
    const key = `lease:${requestId}`;
    const leaseWaitMs = this.leaseTtlMs * 2;
    const leaseWait = { summary: `wait for the lease on ${run.state.target} from ${guardId}` };
    const answered = () => condition(() => this.answered(key) !== undefined, leaseWaitMs, leaseWait);
    if (!(await this.askAndWait(guardId, { start, ask, answered }, oneTrip))) {
      await this.release(requestId, 'not-acted');
      return { ok: false, reason: `${guardId} granted no lease within ${secondsText(leaseWaitMs)}` };
    }
    const lease = this.answered(key) as LeaseDecision;
    if (lease.kind !== 'granted') {
      if (!oneTrip) this.outstanding.delete(requestId);
      return { ok: false, reason: lease.reason };
    }
    return { ok: true, requestId };
  }

  private async askBudget(
    requestId: string,
    approvedBy: string | undefined,
    oneTrip = false,
  ): Promise<Permit> {
    const { budgetId, run } = this;
    const start = () =>
      startChild(budgetWorkflow, {
        ...childOptions(budgetId),
        staticSummary: 'budget · restarts per hour and per day across all targets',
        args: [{}],
      });
    const ask = () =>
      getExternalWorkflowHandle(budgetId).signal(budgetRequestSignal, {
        requestId,
        incidentWorkflowId: run.state.workflowId,
        target: run.state.target,
        dryRun: run.dryRun,
        limits: run.settings.budget,
        ...(approvedBy ? { approvedBy } : {}),
      });
    const key = `budget:${requestId}`;
    const answered = () =>
      condition(() => this.answered(key) !== undefined, BUDGET_ANSWER_TIMEOUT_MS, {
        summary: `wait for a unit of the global budget from ${budgetId}`,
      });
    const budgetAnswered = await this.askAndWait(budgetId, { start, ask, answered }, oneTrip);
    const budget = this.answered(key);
    if (budgetAnswered && budget?.kind === 'granted') return { ok: true, requestId };
    const timedOut = `${budgetId} did not answer within ${secondsText(BUDGET_ANSWER_TIMEOUT_MS)}`;
    return { ok: false, reason: budget?.reason ?? timedOut };
  }

  private answered(key: string) {
    const answer = this.answers.get(key);
    return answer !== undefined && answer.kind !== 'queued' ? answer : undefined;
  }

  /**
   * Asks a guard and waits for its answer; true when it answered in time. `oneTrip`: the guard is signalled
   * first and started only when the signal finds no such workflow (guards run for good once started, so
   * later incidents save the start command's round trip), while the answer is awaited all along.
   * Otherwise: started (or found running), then signalled, then awaited.
   */
  private async askAndWait(
    workflowId: string,
    steps: { start: () => Promise<unknown>; ask: () => Promise<void>; answered: () => Promise<boolean> },
    oneTrip: boolean,
  ): Promise<boolean> {
    const { start, ask, answered } = steps;
    if (!oneTrip) {
      await this.ensureRunning(workflowId, start);
      await ask();
      return answered();
    }
    const signalOrStart = async () => {
      try {
        await ask();
      } catch (err) {
        if (!notFound(err)) throw err;
        await this.ensureRunning(workflowId, start);
        await ask();
      }
    };
    const [, inTime] = await Promise.all([signalOrStart(), answered()]);
    return inTime;
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

/** A signal to a workflow id with no running workflow fails so (the SDK gives no error class of its own). */
const notFound = (err: unknown) =>
  err instanceof ApplicationFailure && /not ?found/i.test(`${err.type ?? ''} ${err.message}`);

const childOptions = (workflowId: string) => ({ workflowId, parentClosePolicy: ParentClosePolicy.ABANDON });
