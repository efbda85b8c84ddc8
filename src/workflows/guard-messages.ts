// How the guard and the budget talk to incidents: answers to lease and budget requests, and the news of a
// target (its question, its restarts). An incident that cannot be told (it ended, or was terminated while
// waiting) is logged; a grant nobody heard is taken back by the guard.
import { getExternalWorkflowHandle, log } from '@temporalio/workflow';
import {
  type GuardState,
  type LeaseDecision,
  type LeaseRequest,
  nextQueued,
  releaseLease,
} from '../domain/guard.js';
import type { Tell } from '../domain/target-desk.js';
import { type PermitAnswer, permitDecisionSignal, targetNewsSignal } from './messages.js';

/** Messages handled per run before continuing as new; keeps each run's history small. */
export const MESSAGES_PER_RUN = 500;

/** Tells an incident; false when it cannot be told (it ended or was terminated while waiting). */
export async function answer(incidentWorkflowId: string, message: PermitAnswer): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(incidentWorkflowId).signal(permitDecisionSignal, message);
    return true;
  } catch (err) {
    log.warn('could not answer an incident', { incidentWorkflowId, error: String(err) });
    return false;
  }
}

/** True when the message is well formed; otherwise it is logged and dropped. */
export function accepted(signal: string, problem: string | undefined): boolean {
  if (problem) log.warn('signal refused', { signal, problem });
  return problem === undefined;
}

type LeaseAnswer = { request: LeaseRequest; decision: LeaseDecision };

/**
 * How a guard tells incidents its decisions and its target's news. `inParallel` (patch
 * `answers-in-parallel`): the answers to a batch of messages are kept and sent together by `sendAnswers`;
 * before it, each was sent and awaited in turn. News always goes out with the batch.
 */
export function guardTellers(state: GuardState, inParallel: boolean) {
  const unsent: LeaseAnswer[] = [];
  const news: Tell[] = [];
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
  /** Sends the batch's answers and news at once; a grant nobody heard frees the lease for the next in line. */
  const sendAnswers = async () => {
    while (unsent.length > 0 || news.length > 0) {
      const batch = unsent.splice(0);
      const told = await Promise.all([...batch.map(send), ...news.splice(0).map(sendNews)]);
      batch.forEach((sent, i) => {
        if (!told[i]) untold(sent);
      });
      await serveQueue();
    }
  };
  return { tell, serveQueue, sendAnswers, news };
}

async function sendNews({ to, news }: Tell): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(to).signal(targetNewsSignal, news);
    return true;
  } catch (err) {
    log.warn('could not tell an incident its target news', {
      incident: to,
      news: news.kind,
      error: String(err),
    });
    return false;
  }
}
