// The global action budget, `budget-<task queue>`: actions across all targets per hour and per day. Incidents
// ask by signal with each permit and are answered by signal (`permitDecision`); an action not made gives its
// unit back. The rules are domain/guard.ts's; it continues as new to keep its history bounded.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
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
  newBudgetState,
  refundBudget,
  snapshotBudget,
  spendBudget,
} from '../domain/guard.js';
import { checkBudgetRefund, checkBudgetRequest } from '../domain/message-checks.js';
import { accepted, answer, MESSAGES_PER_RUN } from './guard-messages.js';
import { budgetRefundSignal, budgetRequestSignal, budgetStateQuery } from './messages.js';
import { isPatched } from './versions.js';

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
