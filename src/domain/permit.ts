// The action permit as a pure state machine. Before it acts, an incident holds a lease from its target's
// guard (one action at a time, cooldown, hourly limit, breaker) and a unit of the global budget. Both are
// asked by signal and answer by signal. The workflow (workflows/permit.ts) sends the commands `onEvent`
// returns, in order, and feeds back what came of each, so every path and every refund is decided here.
//
// Both are asked at once, one round trip: each request is signalled first and its workflow started only
// when the signal finds nobody. Whichever is refused, the other is given back. A lease queued behind the
// incident acting on the target gives its budget unit back while it waits (an idle unit could refuse
// other targets' incidents) and asks again once granted. The lease counts as held from the asking on, so
// an incident cancelled while it waits gives back whatever it was granted. Incidents begun before patch
// `permit-one-trip` take the route `in-turn`: the guard, then the budget, each started before it is asked.
//
// The machine moves on only where the workflow used to wait: when a wait ends (its answer came, or its
// time ran out), a signal is delivered, a child starts. An answer alone only shows; the wait it ends
// moves the machine, so the commands come in the order the workflow has always sent them.
import type { Refusal, ReleaseOutcome } from './guard.js';
import { BUDGET_ANSWER_TIMEOUT_MS, secondsText } from './incident.js';
import { type Ask, askDone, askFor, type Failure, openAsk, settledDecision } from './permit-ask.js';
import type {
  Decision,
  Permit,
  PermitCommand,
  PermitEvent,
  RefundCommand,
  RequestCommand,
  Route,
  SignalCommand,
  StartCommand,
  WaitCommand,
} from './permit-protocol.js';

export type * from './permit-protocol.js';

type OneTripStep =
  | 'budget'
  | 'lease-word'
  | 'refunding-queued'
  | 'lease'
  | 'refunding-refused'
  | 'budget-again';
type InTurnStep = 'lease-in-turn' | 'budget-in-turn';

/** One `acquire`, from the asking to its answer. */
export interface Asking {
  route: Route;
  requestId: string;
  approvedBy?: string;
  /** Where it waits; `giving-back`: for the lease it gives back, then it answers `answerAfter`. */
  step: OneTripStep | InTurnStep | 'giving-back' | 'done';
  lease: Ask;
  budget?: Ask;
  /** One trip: the lease's ask, run beside the steps, ended with this (after giving the lease back when the guard never answered). */
  leaseResult?: Permit;
  leaseFailure?: number;
  leaseGivingBack?: boolean;
  budgetResult?: Permit;
  /** The lease was queued when the budget had answered: its unit went back, to be asked for again. */
  queued?: boolean;
  answerAfter?: Permit;
}

interface GiveBack {
  requestId: string;
  outcome: ReleaseOutcome;
  budgetRequestId: string;
  step: 'release' | 'refund';
}

export interface PermitState {
  guardId: string;
  budgetId: string;
  /** A dry run spends no unit, so none is refunded. */
  dryRun: boolean;
  /** Request ids whose answers count: a stale answer, or one meant for an earlier run, neither shows nor counts. */
  listening: string[];
  /** The lease request held, so a cancelled incident still gives it back. */
  held?: string;
  /** A queued lease's budget, asked again under an id of its own. */
  budgetAskedAgain?: { requestId: string; budgetRequestId: string };
  asking?: Asking;
  givingBack: GiveBack[];
}

export interface PermitStep {
  state: PermitState;
  commands: PermitCommand[];
}

export function newPermitState(ids: { guardId: string; budgetId: string }): PermitState {
  return { ...ids, dryRun: false, listening: [], givingBack: [] };
}

/** The budget request a lease request's unit was spent under. */
export const budgetRequestOf = (state: PermitState, requestId: string): string =>
  state.budgetAskedAgain?.requestId === requestId ? state.budgetAskedAgain.budgetRequestId : requestId;

/** Whether a wait is over: its answer came (`queued` is none), or the guard said anything, or its lease ask ended. */
export function waitOver(state: PermitState, wait: WaitCommand): boolean {
  const a = state.asking;
  if (wait.for !== 'lease-word') return settledDecision(askFor(a, wait.for, wait.requestId)) !== undefined;
  if (a?.requestId !== wait.requestId) return false;
  return a.leaseResult !== undefined || a.leaseFailure !== undefined || a.lease.answer !== undefined;
}

export function onEvent(state: PermitState, event: PermitEvent): PermitStep {
  const s = draft(state);
  const out: PermitCommand[] = [];
  switch (event.kind) {
    case 'asked':
      ask(s, event, out);
      break;
    case 'answer':
      hear(s, event, out);
      break;
    case 'released':
      s.dryRun = event.dryRun;
      giveBack(s, event.requestId, event.outcome, out);
      break;
    default:
      progress(s, event, out);
      advance(s, out);
  }
  return { state: s, commands: out };
}

function draft(state: PermitState): PermitState {
  const { asking } = state;
  return {
    ...state,
    listening: [...state.listening],
    givingBack: state.givingBack.map((g) => ({ ...g })),
    ...(asking
      ? {
          asking: {
            ...asking,
            lease: { ...asking.lease },
            ...(asking.budget ? { budget: { ...asking.budget } } : {}),
          },
        }
      : {}),
  };
}

function ask(s: PermitState, event: Extract<PermitEvent, { kind: 'asked' }>, out: PermitCommand[]) {
  const { requestId, approvedBy, route } = event;
  s.dryRun = event.dryRun;
  s.listening.push(requestId);
  const by = approvedBy ? { approvedBy } : {};
  if (route === 'in-turn') {
    const lease = openAsk('lease', requestId, approvedBy, 'start-first', event.leaseWaitMs, out);
    s.asking = { route, requestId, ...by, step: 'lease-in-turn', lease };
    return;
  }
  // Held from the asking on: an incident cancelled while it waits gives back whatever it was granted.
  s.held = requestId;
  const lease = openAsk('lease', requestId, approvedBy, 'signal-first', event.leaseWaitMs, out);
  const budget = openAsk('budget', requestId, approvedBy, 'signal-first', BUDGET_ANSWER_TIMEOUT_MS, out);
  s.asking = { route, requestId, ...by, step: 'budget', lease, budget };
}

function hear(s: PermitState, event: Extract<PermitEvent, { kind: 'answer' }>, out: PermitCommand[]) {
  const { scope, requestId, decision } = event;
  if (!s.listening.includes(requestId)) return;
  const asked = askFor(s.asking, scope, requestId);
  if (asked) asked.answer = decision;
  out.push(
    { kind: 'show', decision: decision.kind, reason: decision.reason },
    { kind: 'record', event: `${scope}-${decision.kind}`, detail: decision.reason },
  );
}

/** What came of a command: the ask, refund or give-back it belongs to takes a step. */
function progress(s: PermitState, event: PermitEvent, out: PermitCommand[]) {
  const a = s.asking;
  switch (event.kind) {
    case 'answered':
    case 'timeout': {
      const { wait } = event;
      if (wait.for === 'lease-word') {
        if (a?.step === 'lease-word' && a.requestId === wait.requestId) afterLeaseWord(s, a, out);
        return;
      }
      const asked = askFor(a, wait.for, wait.requestId);
      if (asked?.wait === 'waiting') asked.wait = event.kind === 'answered' ? 'answered' : 'timed-out';
      return;
    }
    case 'sent':
      return sent(s, event.signal, out);
    case 'not-found':
      return notFound(s, event.signal, event.cause, out);
    case 'started':
      return started(s, event.start, event.fresh, out);
    case 'failed':
    case 'cancelled':
      return broke(s, event, out);
    default:
      return;
  }
}

function sent(s: PermitState, signal: SignalCommand, out: PermitCommand[]) {
  const a = s.asking;
  if (signal.kind === 'signal') {
    const asked = askFor(a, signal.to, signal.requestId);
    if (!asked || asked.delivery === 'delivered') return;
    asked.delivery = 'delivered';
    // In turn, the wait begins once the request is delivered.
    if (asked.wait === 'idle') {
      asked.wait = 'waiting';
      out.push({ kind: 'wait', for: asked.scope, requestId: asked.requestId, ms: asked.ms });
    }
    return;
  }
  if (signal.kind === 'refund' && signal.because !== 'given-back') {
    if (a?.step === 'refunding-queued' && signal.because === 'queued') {
      a.step = 'lease';
    } else if (a?.step === 'refunding-refused' && signal.because === 'refused') {
      settleRefused(a, out);
    }
    return;
  }
  const g = s.givingBack.find((x) =>
    signal.kind === 'release'
      ? x.step === 'release' && x.requestId === signal.requestId
      : x.step === 'refund' && x.budgetRequestId === signal.requestId,
  );
  if (!g) return;
  if (g.step === 'release' && g.outcome === 'not-acted' && refund(s, g.budgetRequestId, 'given-back', out)) {
    g.step = 'refund';
    return;
  }
  finishGiveBack(s, g, { event: 'lease-released', detail: g.outcome }, out);
}

function notFound(s: PermitState, signal: RequestCommand, cause: number, out: PermitCommand[]) {
  const asked = askFor(s.asking, signal.to, signal.requestId);
  if (!asked) return;
  // Guards run for good once started: later incidents save the start's round trip by signalling first.
  if (asked.order === 'signal-first' && asked.delivery === 'signalling') {
    asked.delivery = 'starting';
    out.push({ kind: 'start', which: asked.scope });
  } else {
    asked.failure ??= cause;
  }
}

function started(s: PermitState, start: StartCommand, fresh: boolean, out: PermitCommand[]) {
  const a = s.asking;
  const asked = start.which === 'lease' ? a?.lease : a?.budget;
  if (asked?.delivery !== 'starting') return;
  if (fresh) {
    const id = start.which === 'lease' ? s.guardId : s.budgetId;
    out.push({ kind: 'record', event: 'guard-started', detail: `started ${id}` });
  }
  asked.delivery = asked.order === 'signal-first' ? 'signalling-again' : 'signalling';
  out.push({
    kind: 'signal',
    to: asked.scope,
    requestId: asked.requestId,
    ...(asked.approvedBy ? { approvedBy: asked.approvedBy } : {}),
  });
}

/** A command failed, or was cancelled with the workflow: it ends what waits for it. */
function broke(s: PermitState, event: Failure, out: PermitCommand[]) {
  const { command, cause } = event;
  const a = s.asking;
  if (command.kind === 'signal' || command.kind === 'start' || command.kind === 'wait') {
    if (command.kind === 'wait' && command.for === 'lease-word') {
      if (a?.step === 'lease-word' && a.requestId === command.requestId) fail(a, cause, out);
      return;
    }
    const asked =
      command.kind === 'start'
        ? command.which === 'lease'
          ? a?.lease
          : a?.budget
        : askFor(a, command.kind === 'signal' ? command.to : command.for, command.requestId);
    if (asked) asked.failure ??= cause;
    return;
  }
  if (command.kind === 'refund' && command.because !== 'given-back') {
    if (a && (a.step === 'refunding-queued' || a.step === 'refunding-refused')) fail(a, cause, out);
    return;
  }
  if (command.kind !== 'refund' && command.kind !== 'release') return;
  const g = s.givingBack.find((x) =>
    command.kind === 'release' ? x.requestId === command.requestId : x.budgetRequestId === command.requestId,
  );
  if (!g) return;
  if (event.kind === 'failed') {
    // A lease that could not be given back expires at the guard: recorded, not thrown.
    finishGiveBack(s, g, { event: 'lease-release-failed', detail: event.detail }, out);
    return;
  }
  s.givingBack = s.givingBack.filter((x) => x !== g);
  out.push({ kind: 'fail', waiter: 'release', requestId: g.requestId, cause });
  if (a?.requestId !== g.requestId) return;
  if (a.leaseGivingBack) {
    a.leaseGivingBack = false;
    a.leaseFailure = cause;
  } else if (a.step === 'giving-back') {
    fail(a, cause, out);
  }
}

/** Takes the asking as far as what has come allows. */
function advance(s: PermitState, out: PermitCommand[]) {
  const a = s.asking;
  if (!a || a.step === 'done') return;
  if (a.route === 'in-turn') return advanceInTurn(s, a, out);
  leaseEnded(s, a, out);
  if (a.step === 'budget' && a.budget && askDone(a.budget)) {
    if (a.budget.failure !== undefined) return fail(a, a.budget.failure, out);
    a.budgetResult = budgetOutcome(s, a.budget);
    a.step = 'lease-word';
    out.push({ kind: 'wait', for: 'lease-word', requestId: a.requestId });
    return;
  }
  if (a.step === 'lease') return afterLease(s, a, out);
  if (a.step === 'budget-again' && a.budget && askDone(a.budget)) {
    if (a.budget.failure !== undefined) return fail(a, a.budget.failure, out);
    a.budgetResult = budgetOutcome(s, a.budget);
    return decideBudget(s, a, out);
  }
}

/** One trip: the lease's ask runs beside the budget's; it ends with a result, or gives the lease back first. */
function leaseEnded(s: PermitState, a: Asking, out: PermitCommand[]) {
  if (a.leaseResult || a.leaseFailure !== undefined || a.leaseGivingBack || !askDone(a.lease)) return;
  if (a.lease.failure !== undefined) {
    a.leaseFailure = a.lease.failure;
  } else if (a.lease.wait === 'timed-out') {
    a.leaseGivingBack = true;
    giveBack(s, a.requestId, 'not-acted', out);
  } else {
    a.leaseResult = leaseOutcome(a.lease);
  }
}

/** The guard has spoken (or its ask ended), and the budget has answered. */
function afterLeaseWord(s: PermitState, a: Asking, out: PermitCommand[]) {
  const decided = a.leaseResult !== undefined || a.leaseFailure !== undefined;
  a.queued = !decided && a.lease.answer?.kind === 'queued';
  a.step = 'lease';
  if (a.queued && a.budgetResult?.ok && refund(s, a.requestId, 'queued', out)) a.step = 'refunding-queued';
}

function afterLease(s: PermitState, a: Asking, out: PermitCommand[]) {
  if (a.leaseFailure !== undefined) return fail(a, a.leaseFailure, out);
  const lease = a.leaseResult;
  if (!lease) return;
  if (!lease.ok) {
    s.held = undefined;
    // Refused, or given back by the wait's end: a unit that may have been spent goes back too.
    const spent = !a.queued && a.budget?.answer?.kind !== 'denied';
    const outstanding = unlisten(s, a.requestId);
    if (outstanding && spent && refund(s, a.requestId, 'refused', out)) {
      a.step = 'refunding-refused';
      return;
    }
    return settleRefused(a, out);
  }
  if (!a.queued) return decideBudget(s, a, out);
  // After a queued lease is granted: a unit of the budget, under a request id of its own.
  const budgetRequestId = `${a.requestId}:granted`;
  s.budgetAskedAgain = { requestId: a.requestId, budgetRequestId };
  s.listening.push(budgetRequestId);
  a.budget = openAsk('budget', budgetRequestId, a.approvedBy, 'signal-first', BUDGET_ANSWER_TIMEOUT_MS, out);
  a.step = 'budget-again';
}

/** The lease is granted: the budget's answer decides, and a refused budget gives the lease back. */
function decideBudget(s: PermitState, a: Asking, out: PermitCommand[]) {
  const budget = a.budgetResult as Permit;
  show(a.budget, budget.ok ? '' : budget.reason, out);
  if (budget.ok) return settle(a, { ok: true, requestId: a.requestId }, out);
  a.step = 'giving-back';
  a.answerAfter = budget;
  giveBack(s, a.requestId, 'not-acted', out);
}

function settleRefused(a: Asking, out: PermitCommand[]) {
  const lease = a.leaseResult as Extract<Permit, { ok: false }>;
  show(a.lease, lease.reason, out);
  settle(a, lease, out);
}

/** Before patch `permit-one-trip`: the lease, then the budget, each started first, then asked. */
function advanceInTurn(s: PermitState, a: Asking, out: PermitCommand[]) {
  if (a.step === 'lease-in-turn' && askDone(a.lease)) {
    if (a.lease.failure !== undefined) return fail(a, a.lease.failure, out);
    if (a.lease.wait === 'timed-out') {
      a.step = 'giving-back';
      a.answerAfter = noLease(s, a.lease);
      return giveBack(s, a.requestId, 'not-acted', out);
    }
    const lease = leaseOutcome(a.lease);
    if (!lease.ok) {
      unlisten(s, a.requestId);
      return settle(a, lease, out);
    }
    s.held = a.requestId;
    a.budget = openAsk('budget', a.requestId, a.approvedBy, 'start-first', BUDGET_ANSWER_TIMEOUT_MS, out);
    a.step = 'budget-in-turn';
    return;
  }
  if (a.step === 'budget-in-turn' && a.budget && askDone(a.budget)) {
    if (a.budget.failure !== undefined) return fail(a, a.budget.failure, out);
    const budget = budgetOutcome(s, a.budget);
    if (budget.ok) return settle(a, { ok: true, requestId: a.requestId }, out);
    a.step = 'giving-back';
    a.answerAfter = budget;
    giveBack(s, a.requestId, 'not-acted', out);
  }
}

/** Gives the lease back with what happened; a budget unit that was not used goes back after it. */
function giveBack(s: PermitState, requestId: string, outcome: ReleaseOutcome, out: PermitCommand[]) {
  unlisten(s, requestId);
  if (s.held === requestId) s.held = undefined;
  s.givingBack.push({ requestId, outcome, budgetRequestId: budgetRequestOf(s, requestId), step: 'release' });
  out.push({ kind: 'release', requestId, outcome });
}

function finishGiveBack(
  s: PermitState,
  g: GiveBack,
  note: { event: string; detail: string },
  out: PermitCommand[],
) {
  s.givingBack = s.givingBack.filter((x) => x !== g);
  out.push({ kind: 'record', ...note }, { kind: 'gave-back', requestId: g.requestId });
  const a = s.asking;
  if (a?.requestId !== g.requestId) return;
  if (a.leaseGivingBack) {
    a.leaseGivingBack = false;
    a.leaseResult = noLease(s, a.lease);
  } else if (a.step === 'giving-back' && a.answerAfter) {
    settle(a, a.answerAfter, out);
  }
}

/** False when there is nothing to refund: a dry run spends no unit. */
function refund(
  s: PermitState,
  requestId: string,
  because: RefundCommand['because'],
  out: PermitCommand[],
): boolean {
  if (s.dryRun) return false;
  out.push({ kind: 'refund', requestId, because });
  return true;
}

/** Stops counting a request's answers; true when they were counted until now. */
function unlisten(s: PermitState, requestId: string): boolean {
  const before = s.listening.length;
  s.listening = s.listening.filter((id) => id !== requestId);
  return s.listening.length < before;
}

/** The incident's `guard` state: the answer that decided, or the refusal. */
function show(asked: Ask | undefined, reason: string, out: PermitCommand[]) {
  const final = settledDecision(asked);
  out.push({ kind: 'show', decision: final?.kind ?? 'denied', reason: final?.reason ?? reason });
}

function settle(a: Asking, permit: Permit, out: PermitCommand[]) {
  a.step = 'done';
  out.push({ kind: 'settle', permit });
}

function fail(a: Asking, cause: number, out: PermitCommand[]) {
  a.step = 'done';
  out.push({ kind: 'fail', waiter: 'acquire', requestId: a.requestId, cause });
}

/** A denial's kind (`other` from a guard older than the kinds); anything else came too late to count. */
const refusalOf = (decision: Decision | undefined): Refusal =>
  decision?.kind === 'denied' ? (decision.refusal ?? { kind: 'other' }) : { kind: 'no-answer' };

function leaseOutcome(lease: Ask): Permit {
  const decision = settledDecision(lease);
  if (decision?.kind === 'granted') return { ok: true, requestId: lease.requestId };
  const reason = decision?.reason ?? 'the guard gave no decision';
  return { ok: false, reason, refusal: refusalOf(decision) };
}

function noLease(s: PermitState, lease: Ask): Permit {
  return {
    ok: false,
    reason: `${s.guardId} granted no lease within ${secondsText(lease.ms)}`,
    refusal: { kind: 'no-answer' },
  };
}

function budgetOutcome(s: PermitState, budget: Ask): Permit {
  const { answer } = budget;
  if (budget.wait === 'answered' && answer?.kind === 'granted')
    return { ok: true, requestId: budget.requestId };
  if (answer) return { ok: false, reason: answer.reason, refusal: refusalOf(answer) };
  return {
    ok: false,
    reason: `${s.budgetId} did not answer within ${secondsText(BUDGET_ANSWER_TIMEOUT_MS)}`,
    refusal: { kind: 'no-answer' },
  };
}
