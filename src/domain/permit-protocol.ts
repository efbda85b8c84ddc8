// What the permit's state machine (domain/permit.ts) hears and says: the events the workflow feeds it
// and the commands it returns for the workflow to send.
import type { BudgetDecision, LeaseDecision, Refusal, ReleaseOutcome } from './guard.js';

export type Scope = 'lease' | 'budget';
export type Decision = LeaseDecision | BudgetDecision;

export type Permit = { ok: true; requestId: string } | { ok: false; reason: string; refusal: Refusal };

/** Both at once (patch `permit-one-trip`), or the guard and then the budget. */
export type Route = 'one-trip' | 'in-turn';

/** A lease request to the guard, or a budget request to the budget. */
export type RequestCommand = { kind: 'signal'; to: Scope; requestId: string; approvedBy?: string };
/** Start the guard or the budget as an abandoned child: it outlives the incident. */
export type StartCommand = { kind: 'start'; which: Scope };
/** Wait for an answer that is not `queued`, at most `ms`; or, without a time limit, for the guard's first word. */
export type WaitCommand =
  | { kind: 'wait'; for: Scope; requestId: string; ms: number }
  | { kind: 'wait'; for: 'lease-word'; requestId: string };
/** A unit of the budget that will not be used goes back; `because` tells whose refund it is. */
export type RefundCommand = {
  kind: 'refund';
  requestId: string;
  because: 'queued' | 'refused' | 'given-back';
};
export type ReleaseCommand = { kind: 'release'; requestId: string; outcome: ReleaseOutcome };
export type SignalCommand = RequestCommand | RefundCommand | ReleaseCommand;

export type PermitCommand =
  | SignalCommand
  | StartCommand
  | WaitCommand
  /** The incident's `guard` state and timeline. */
  | { kind: 'show'; decision: Decision['kind']; reason: string }
  | { kind: 'record'; event: string; detail: string }
  /** `acquire` answers. */
  | { kind: 'settle'; permit: Permit }
  /** `release` of this request is done. */
  | { kind: 'gave-back'; requestId: string }
  /** The waiter ends with the error the workflow holds as `cause`. */
  | { kind: 'fail'; waiter: 'acquire' | 'release'; requestId: string; cause: number };

export type PermitEvent =
  | {
      kind: 'asked';
      requestId: string;
      approvedBy?: string;
      route: Route;
      leaseWaitMs: number;
      dryRun: boolean;
    }
  /** From the guard or the budget; counted only while its request is outstanding. */
  | { kind: 'answer'; scope: Scope; requestId: string; decision: Decision }
  | { kind: 'answered'; wait: WaitCommand }
  | { kind: 'timeout'; wait: WaitCommand }
  | { kind: 'sent'; signal: SignalCommand }
  /** A request's signal found no such workflow. `cause`: the workflow's handle on the error. */
  | { kind: 'not-found'; signal: RequestCommand; cause: number }
  /** The child runs: started now (`fresh`), or it already ran. */
  | { kind: 'started'; start: StartCommand; fresh: boolean }
  | { kind: 'failed'; command: PermitCommand; detail: string; cause: number }
  /** A wait or a signal was cancelled with the workflow. */
  | { kind: 'cancelled'; command: PermitCommand; cause: number }
  /** The incident gives its lease back with what happened (the outcome), also when it was cancelled. */
  | { kind: 'released'; requestId: string; outcome: ReleaseOutcome; dryRun: boolean };
