// Long-lived guards. `guard-<target>` serialises actions on one target and enforces its cooldown,
// hourly restart limit and circuit breaker; `budget-<task queue>` enforces the global action budgets.
// Incidents ask by signal and are answered by signal (`permitDecision`); the rules themselves are
// the pure functions of domain/guard.ts. Both continue-as-new to keep their histories bounded, so the
// state is durable across worker restarts and never grows without limit. Since patch
// `answers-in-parallel` each sends every answer a batch of messages produced in one workflow task, instead
// of one task per answer, so fifty incidents waiting on one guard are not fifty round trips in a row.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  type BudgetLimits,
  type BudgetRequest,
  type BudgetState,
  describeBudgetSnapshot,
  describeGuardSnapshot,
  type GuardState,
  type LeaseDecision,
  type LeaseRequest,
  newBudgetState,
  newGuardState,
  nextQueued,
  type ReleaseOutcome,
  refundBudget,
  releaseLease,
  requestLease,
  resetBreaker,
  snapshotBudget,
  snapshotGuard,
  spendBudget,
  tickGuard,
} from '../domain/guard.js';
import {
  checkBudgetRefund,
  checkBudgetRequest,
  checkByPayload,
  checkLeaseRelease,
  checkLeaseRequest,
} from '../domain/message-checks.js';
import {
  budgetRefundSignal,
  budgetRequestSignal,
  budgetStateQuery,
  guardStateQuery,
  leaseReleaseSignal,
  leaseRequestSignal,
  type PermitAnswer,
  permitDecisionSignal,
  resetBreakerSignal,
} from './messages.js';
import { isPatched } from './versions.js';

/** Messages handled per run before continuing as new; keeps each run's history small. */
const MESSAGES_PER_RUN = 500;

/** Tells an incident; false when it cannot be told (it ended or was terminated while waiting). */
async function answer(incidentWorkflowId: string, message: PermitAnswer): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(incidentWorkflowId).signal(permitDecisionSignal, message);
    return true;
  } catch (err) {
    log.warn('could not answer an incident', { incidentWorkflowId, error: String(err) });
    return false;
  }
}

/** True when the message is well formed; otherwise it is logged and dropped. */
function accepted(signal: string, problem: string | undefined): boolean {
  if (problem) log.warn('signal refused', { signal, problem });
  return problem === undefined;
}

type GuardMessage =
  | { kind: 'request'; request: LeaseRequest }
  | { kind: 'release'; requestId: string; outcome: ReleaseOutcome }
  | { kind: 'reset'; by: string };

export interface GuardWorkflowInput {
  target: string;
  /** Carried over by continue-as-new. */
  state?: GuardState;
}

type LeaseAnswer = { request: LeaseRequest; decision: LeaseDecision };

/**
 * How a guard tells incidents its decisions. `inParallel` (patch `answers-in-parallel`): the answers to a
 * batch of messages are kept and sent together by `sendAnswers`; before it, each was sent and awaited in turn.
 */
function leaseAnswers(state: GuardState, inParallel: boolean) {
  const unsent: LeaseAnswer[] = [];
  const send = ({ request, decision }: LeaseAnswer) =>
    answer(request.incidentWorkflowId, { requestId: request.requestId, scope: 'lease', decision });
  /** Nobody will act on (or release) a lease its incident never heard of: take it back at once. */
  const untold = ({ request, decision }: LeaseAnswer) => {
    if (decision.kind === 'granted') releaseLease(state, request.requestId, 'not-acted', Date.now());
  };
  const tell = async (request: LeaseRequest, decision: LeaseDecision) => {
    if (inParallel) unsent.push({ request, decision });
    else if (!(await send({ request, decision }))) untold({ request, decision });
  };
  /** The lease may be free: serve whoever waited longest, until someone holds it or nobody waits. */
  const serveQueue = async () => {
    for (let next = nextQueued(state, Date.now()); next; next = nextQueued(state, Date.now())) {
      await tell(next.request, next.decision);
    }
  };
  /** Sends the batch's answers at once; a grant nobody heard frees the lease for the next in line. */
  const sendAnswers = async () => {
    while (unsent.length > 0) {
      const batch = unsent.splice(0);
      const told = await Promise.all(batch.map(send));
      batch.forEach((sent, i) => {
        if (!told[i]) untold(sent);
      });
      await serveQueue();
    }
  };
  return { tell, serveQueue, sendAnswers };
}

export async function guardWorkflow(input: GuardWorkflowInput): Promise<void> {
  const state = input.state ?? newGuardState(input.target);
  const inbox: GuardMessage[] = [];
  // Anyone who can signal may send anything: a malformed message is refused here, before it can fail
  // the workflow task over and over and so block every target's incidents behind it.
  setHandler(leaseRequestSignal, (request) => {
    if (accepted('leaseRequest', checkLeaseRequest(request))) inbox.push({ kind: 'request', request });
  });
  setHandler(leaseReleaseSignal, (release) => {
    if (accepted('leaseRelease', checkLeaseRelease(release)))
      inbox.push({ kind: 'release', requestId: release.requestId, outcome: release.outcome });
  });
  setHandler(resetBreakerSignal, (reset) => {
    if (accepted('resetBreaker', checkByPayload(reset))) inbox.push({ kind: 'reset', by: reset.by });
  });
  setHandler(guardStateQuery, () => snapshotGuard(state, Date.now()));

  const { tell, serveQueue, sendAnswers } = leaseAnswers(state, isPatched('answers-in-parallel'));

  let handled = 0;
  for (;;) {
    // The Web UI's current details; a run carried over by continue-as-new shows them at once.
    setCurrentDetails(describeGuardSnapshot(snapshotGuard(state, Date.now())));
    // Sleep until a message arrives, a lease expires or the breaker's time is up.
    const deadlines = [
      state.holder?.expiresAt,
      state.breaker.open ? state.breaker.closesAt : undefined,
    ].filter((d): d is number => d !== undefined);
    const wakeIn = deadlines.length ? Math.max(1, Math.min(...deadlines) - Date.now()) : undefined;
    if (wakeIn === undefined) await condition(() => inbox.length > 0);
    else await condition(() => inbox.length > 0, wakeIn);

    for (const change of tickGuard(state, Date.now())) log.info(change, { target: state.target });
    await serveQueue(); // a lease that just expired frees the target for the next in line
    while (inbox.length > 0) {
      const message = inbox.shift() as GuardMessage;
      handled += 1;
      const now = Date.now();
      if (message.kind === 'request') {
        const decision = requestLease(state, message.request, now);
        log.info('lease request', {
          target: state.target,
          incident: message.request.incidentWorkflowId,
          decision,
        });
        await tell(message.request, decision);
      } else if (message.kind === 'release') {
        const { released, breakerOpened } = releaseLease(state, message.requestId, message.outcome, now);
        if (released) log.info('lease released', { target: state.target, outcome: message.outcome });
        if (breakerOpened)
          log.warn('circuit breaker opened', { target: state.target, reason: breakerOpened });
      } else if (resetBreaker(state)) {
        log.info('circuit breaker reset by a person', { target: state.target, by: message.by });
      }
      await serveQueue();
    }
    await sendAnswers();

    if (handled >= MESSAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (inbox.length === 0) await continueAsNew<typeof guardWorkflow>({ target: state.target, state });
    }
  }
}

type BudgetMessage = { kind: 'request'; request: BudgetRequest } | { kind: 'refund'; requestId: string };

export interface BudgetWorkflowInput {
  state?: BudgetState;
  limits?: BudgetLimits;
}

export async function budgetWorkflow(input: BudgetWorkflowInput = {}): Promise<void> {
  const state = input.state ?? newBudgetState();
  let limits = input.limits;
  const inbox: BudgetMessage[] = [];
  setHandler(budgetRequestSignal, (request) => {
    if (accepted('budgetRequest', checkBudgetRequest(request))) inbox.push({ kind: 'request', request });
  });
  setHandler(budgetRefundSignal, (refund) => {
    if (accepted('budgetRefund', checkBudgetRefund(refund)))
      inbox.push({ kind: 'refund', requestId: refund.requestId });
  });
  setHandler(budgetStateQuery, () => snapshotBudget(state, Date.now(), limits));

  const inParallel = isPatched('answers-in-parallel');
  let handled = 0;
  for (;;) {
    setCurrentDetails(describeBudgetSnapshot(snapshotBudget(state, Date.now(), limits)));
    await condition(() => inbox.length > 0);
    /** Under the patch, the batch's answers go out together once every message in it is decided. */
    const answers: Array<Promise<boolean>> = [];
    while (inbox.length > 0) {
      const message = inbox.shift() as BudgetMessage;
      handled += 1;
      if (message.kind === 'refund') {
        refundBudget(state, message.requestId);
        continue;
      }
      const { request } = message;
      limits = request.limits;
      const decision = spendBudget(state, request, Date.now());
      log.info('budget request', { target: request.target, incident: request.incidentWorkflowId, decision });
      const told = answer(request.incidentWorkflowId, {
        requestId: request.requestId,
        scope: 'budget',
        decision,
      });
      if (inParallel) answers.push(told);
      else await told;
    }
    await Promise.all(answers);
    if (handled >= MESSAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (inbox.length === 0)
        await continueAsNew<typeof budgetWorkflow>({ state, ...(limits ? { limits } : {}) });
    }
  }
}
