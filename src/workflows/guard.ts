// The guard of one target, `guard:<host>:<target>`, long-lived: it serialises actions on the target and
// enforces its cooldown, hourly restart limit and circuit breaker, and keeps what the target's incidents know
// of each other (its question to a person, who waits on it, its restarts: domain/target-desk.ts). Incidents
// ask by signal and are answered by signal; the rules are the pure functions of domain/guard.ts. It continues
// as new to keep its history bounded, so its state is durable and never grows without limit. The answers to
// a batch of messages go out together (patch `answers-in-parallel`), so fifty incidents waiting on one guard
// are not fifty round trips in a row.
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
  describeGuardSnapshot,
  type GuardState,
  type LeaseRequest,
  newGuardState,
  noteHealthyImage,
  type ReleaseOutcome,
  releaseLease,
  requestLease,
  resetBreaker,
  snapshotGuard,
  tickGuard,
} from '../domain/guard.js';
import {
  checkByPayload,
  checkDeskMessage,
  checkHealthyImage,
  checkLeaseRelease,
  checkLeaseRequest,
} from '../domain/message-checks.js';
import { type DeskMessage, newTargetDesk, onActionEnded, onDeskMessage } from '../domain/target-desk.js';
import { accepted, guardTellers, MESSAGES_PER_RUN } from './guard-messages.js';
import {
  guardStateQuery,
  healthyImageSignal,
  leaseReleaseSignal,
  leaseRequestSignal,
  resetBreakerSignal,
  targetDeskSignal,
} from './messages.js';
import { isPatched } from './versions.js';

type GuardMessage =
  | { kind: 'request'; request: LeaseRequest }
  | { kind: 'release'; requestId: string; outcome: ReleaseOutcome }
  | { kind: 'reset'; by: string }
  | { kind: 'desk'; message: DeskMessage };

export interface GuardWorkflowInput {
  target: string;
  /** Carried over by continue-as-new. */
  state?: GuardState;
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
  setHandler(targetDeskSignal, (message) => {
    if (accepted('targetDesk', checkDeskMessage(message))) inbox.push({ kind: 'desk', message });
  });
  // Sent only when the image changed, so it is kept at once (it starts no command of its own).
  setHandler(healthyImageSignal, (image) => {
    if (accepted('healthyImage', checkHealthyImage(image)) && noteHealthyImage(state, image))
      log.info('verified healthy on an image', { target: state.target, image: image.name ?? image.id });
  });
  setHandler(guardStateQuery, () => snapshotGuard(state, Date.now()));

  const tellers = guardTellers(state, isPatched('answers-in-parallel'));
  let handled = 0;
  for (;;) {
    // The Web UI's current details; a run carried over by continue-as-new shows them at once.
    setCurrentDetails(describeGuardSnapshot(snapshotGuard(state, Date.now())));
    // Sleep until a message arrives, a lease expires or the breaker's time is up.
    const deadlines = [
      state.holder?.expiresAt,
      state.breaker.open ? state.breaker.closesAt : undefined,
      // A plan's reservation that ends unclaimed gives the target to the queue (patch `remedy-plans`).
      state.reserved && state.queue.length > 0 && isPatched('remedy-plans')
        ? state.reserved.untilMs
        : undefined,
    ].filter((d): d is number => d !== undefined);
    const wakeIn = deadlines.length ? Math.max(1, Math.min(...deadlines) - Date.now()) : undefined;
    if (wakeIn === undefined) await condition(() => inbox.length > 0);
    else await condition(() => inbox.length > 0, wakeIn);

    for (const change of tickGuard(state, Date.now())) log.info(change, { target: state.target });
    await tellers.serveQueue(); // a lease that just expired frees the target for the next in line
    while (inbox.length > 0) {
      handled += 1;
      await handle(state, inbox.shift() as GuardMessage, tellers);
      await tellers.serveQueue();
    }
    await tellers.sendAnswers();

    if (handled >= MESSAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (inbox.length === 0) await continueAsNew<typeof guardWorkflow>({ target: state.target, state });
    }
  }
}

async function handle(state: GuardState, message: GuardMessage, tellers: ReturnType<typeof guardTellers>) {
  const now = Date.now();
  if (message.kind === 'request') {
    const decision = requestLease(state, message.request, now);
    log.info('lease request', {
      target: state.target,
      incident: message.request.incidentWorkflowId,
      decision,
    });
    await tellers.tell(message.request, decision);
  } else if (message.kind === 'release') {
    const holder =
      state.holder?.requestId === message.requestId ? state.holder.incidentWorkflowId : undefined;
    const { released, breakerOpened } = releaseLease(state, message.requestId, message.outcome, now);
    if (released) log.info('lease released', { target: state.target, outcome: message.outcome });
    if (breakerOpened) log.warn('circuit breaker opened', { target: state.target, reason: breakerOpened });
    // Incidents waiting on the target hear that Medic acted on it (a dry run acted on nothing).
    const dryRun = state.actions.find((a) => a.requestId === message.requestId)?.dryRun ?? true;
    if (released && holder && state.desk && !dryRun) {
      const at = new Date(now).toISOString();
      tellers.news.push(
        ...onActionEnded(state.desk, { incidentWorkflowId: holder, outcome: message.outcome, at }),
      );
    }
  } else if (message.kind === 'reset') {
    if (resetBreaker(state))
      log.info('circuit breaker reset by a person', { target: state.target, by: message.by });
  } else {
    state.desk ??= newTargetDesk();
    const context = { holder: state.holder?.incidentWorkflowId, actions: state.actions, now };
    tellers.news.push(...onDeskMessage(state.desk, message.message, context));
  }
}
