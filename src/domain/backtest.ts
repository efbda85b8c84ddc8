// The policy backtest: replays every recorded decision of the incidents that ended, in time order, through
// the same pure functions the workflow decides with (decideRemediation, the guard's requestLease and
// releaseLease, the budget's spendBudget), re-simulating the guards and the budget because one action
// changes the next one's cooldown. Under today's policy it must reproduce each recorded decision.
import type { BudgetLimits, BudgetState, GuardLimits, GuardState, ReleaseOutcome } from './guard.js';
import {
  newBudgetState,
  newGuardState,
  refundBudget,
  releaseLease,
  requestLease,
  spendBudget,
} from './guard.js';
import { outcomeOfPolicy } from './incident-story.js';
import { type ApprovalPolicy, decideRemediation, defaultRisk } from './policy.js';
import {
  DECISION_OUTCOMES,
  type DecisionOutcome,
  type DecisionRecord,
  type Diagnosis,
  type IncidentState,
} from './types.js';

/** A policy as the settings hold it: the severity table, minimum confidence, guard limits, budgets. */
export interface BacktestPolicy {
  policy: ApprovalPolicy;
  guard: GuardLimits;
  budget: BudgetLimits;
}

export type OutcomeCounts = Record<DecisionOutcome, number>;

export interface BacktestResult {
  incidents: number;
  decisions: number;
  /** Share of recorded decisions today's policy reproduces (1 means all). */
  agreement: number;
  current: OutcomeCounts;
  proposed: OutcomeCounts;
  byTarget: Record<string, { current: OutcomeCounts; proposed: OutcomeCounts }>;
  /** Recorded decisions today's policy does not reproduce: each one is a bug to explain. */
  disagreements: Array<{
    workflowId: string;
    at: string;
    recorded: DecisionOutcome;
    replayed: DecisionOutcome;
  }>;
}

interface Step {
  state: IncidentState;
  decision: DecisionRecord;
  atMs: number;
  id: string;
}

/** Leases are never taken back in the replay: every recorded action gave its lease back. */
const NO_EXPIRY_MS = 365 * 86_400_000;

const zero = (): OutcomeCounts => Object.fromEntries(DECISION_OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;

/** The decisions of all incidents, oldest first. */
function steps(incidents: readonly IncidentState[]): Step[] {
  const all = incidents.flatMap((state) =>
    (state.decisions ?? []).map((decision, i) => ({
      state,
      decision,
      atMs: Date.parse(decision.at),
      id: `${state.id}#${i}`,
    })),
  );
  return all.sort((a, b) => a.atMs - b.atMs || a.id.localeCompare(b.id));
}

/** One policy's world: a guard per target, one budget, and the releases still to come. */
class Simulation {
  private readonly guards = new Map<string, GuardState>();
  private readonly budget: BudgetState = newBudgetState();
  private releases: Array<{ target: string; requestId: string; atMs: number; outcome: ReleaseOutcome }> = [];

  constructor(private readonly rules: BacktestPolicy) {}

  decide(step: Step): DecisionOutcome {
    const { state, decision } = step;
    this.releaseUntil(step.atMs);
    const diagnosis = state.diagnosis as Diagnosis;
    const policy = decideRemediation(
      { ...diagnosis, action: decision.action, confidence: decision.confidence },
      decision.severity,
      this.rules.policy,
      {
        ...(decision.recurrence ? { recurrence: decision.recurrence } : {}),
        ...(decision.unrecognisedSeverity ? { unrecognisedSeverity: decision.unrecognisedSeverity } : {}),
      },
      // A plan's step by the risk it was decided by (decisions before plans: their action's).
      {
        name: decision.action,
        risk: decision.risk ?? defaultRisk(decision.action),
        ...(decision.needsPerson ? { needsPerson: decision.needsPerson } : {}),
      },
    );
    let outcome = outcomeOfPolicy(policy.kind);
    // A NOOP for a target that was not healthy was a question to a person.
    if (decision.unhealthyNoop) outcome = 'asked';
    // Refused because the target was acted on while it waited in line: the incident looked, it did not ask.
    if (outcome === 'acted' && !this.act(step, step.atMs))
      outcome = decision.actedMeanwhile ? 'recorded' : 'asked';
    // Asked, and a person approved it when it was recorded: they would approve it again.
    if (outcome === 'asked' && decision.lease?.approvedBy) {
      this.act(step, Date.parse(decision.lease.grantedAt), decision.lease.approvedBy);
    }
    return outcome;
  }

  /** Lease, then budget, as the permit asks for them; true when both are granted. */
  private act(step: Step, atMs: number, approvedBy?: string): boolean {
    const { state, decision } = step;
    const guard = this.guards.get(state.target) ?? newGuardState(state.target, this.rules.guard);
    this.guards.set(state.target, guard);
    // One action at a time: a lease still held is given back first, as the queue would wait for it.
    const held = this.releases.find((r) => r.target === state.target);
    const now = held && guard.holder ? Math.max(atMs, this.releaseUntil(held.atMs, state.target)) : atMs;
    const dryRun = state.dryRun === true;
    const requestId = `${step.id}${approvedBy ? ':approved' : ''}`;
    const limits = { ...this.rules.guard, leaseTtlMs: NO_EXPIRY_MS };
    const lease = requestLease(
      guard,
      {
        requestId,
        incidentWorkflowId: state.workflowId,
        action: 'RESTART',
        dryRun,
        limits,
        ...(approvedBy ? { approvedBy } : {}),
      },
      now,
    );
    if (lease.kind !== 'granted') return false;
    const budget = spendBudget(
      this.budget,
      {
        requestId,
        incidentWorkflowId: state.workflowId,
        target: state.target,
        dryRun,
        limits: this.rules.budget,
        ...(approvedBy ? { approvedBy } : {}),
      },
      now,
    );
    if (budget.kind !== 'granted') {
      releaseLease(guard, requestId, 'not-acted', now);
      return false;
    }
    const recorded = decision.lease;
    const releasedMs = Date.parse(recorded?.releasedAt ?? '');
    const outcome = (recorded?.outcome as ReleaseOutcome | undefined) ?? 'succeeded';
    this.releases.push({
      target: state.target,
      requestId,
      atMs: Number.isFinite(releasedMs) ? releasedMs : now,
      outcome,
    });
    this.releases.sort((a, b) => a.atMs - b.atMs);
    return true;
  }

  /** Gives back every lease released by `atMs` (of one target, if named); returns the last release time. */
  private releaseUntil(atMs: number, target?: string): number {
    let last = atMs;
    this.releases = this.releases.filter((r) => {
      if (r.atMs > atMs || (target !== undefined && r.target !== target)) return true;
      const guard = this.guards.get(r.target);
      if (guard) releaseLease(guard, r.requestId, r.outcome, r.atMs);
      if (r.outcome === 'not-acted') refundBudget(this.budget, r.requestId);
      last = r.atMs;
      return false;
    });
    return last;
  }
}

export function backtest(
  incidents: readonly IncidentState[],
  today: BacktestPolicy,
  proposed: BacktestPolicy = today,
): BacktestResult {
  const replayable = incidents.filter((s) => s.diagnosis && (s.decisions?.length ?? 0) > 0);
  const ordered = steps(replayable);
  const current = new Simulation(today);
  const other = new Simulation(proposed);
  const result: BacktestResult = {
    incidents: replayable.length,
    decisions: ordered.length,
    agreement: 1,
    current: zero(),
    proposed: zero(),
    byTarget: {},
    disagreements: [],
  };
  for (const step of ordered) {
    const replayed = current.decide(step);
    const alternative = other.decide(step);
    const target = result.byTarget[step.state.target] ?? { current: zero(), proposed: zero() };
    result.byTarget[step.state.target] = target;
    result.current[replayed] += 1;
    result.proposed[alternative] += 1;
    target.current[replayed] += 1;
    target.proposed[alternative] += 1;
    if (replayed !== step.decision.outcome) {
      result.disagreements.push({
        workflowId: step.state.workflowId,
        at: step.decision.at,
        recorded: step.decision.outcome,
        replayed,
      });
    }
  }
  if (ordered.length > 0) result.agreement = (ordered.length - result.disagreements.length) / ordered.length;
  return result;
}
