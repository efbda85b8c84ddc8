// The action permit's workflow side: it sends what the permit's state machine (domain/permit.ts) decides
// and feeds back what came of it (answers, deliveries, starts, waits that ended), so that an incident
// holds a lease from its target's guard and a unit of the global budget before it acts, and gives back
// what it does not use. Every path, refund and give-back is decided by the machine.
import { condition, isCancellation, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { ReleaseOutcome } from '../domain/guard.js';
import { leaseTtlMs } from '../domain/incident.js';
import { checkPermitAnswer } from '../domain/message-checks.js';
import { budgetWorkflowId, guardWorkflowId, legacyGuardWorkflowId } from '../domain/naming.js';
import {
  newPermitState,
  onEvent,
  type Permit,
  type PermitCommand,
  type PermitEvent,
  type PermitState,
  type SignalCommand,
  type StartCommand,
  type WaitCommand,
  waitOver,
} from '../domain/permit.js';
import { describeFailure } from './incident/failures.js';
import type { IncidentRun } from './incident/run.js';
import { permitDecisionSignal } from './messages.js';
import { alreadyStarted, notFound, signalFor, startFor } from './permit-transport.js';
import { isPatched } from './versions.js';

export type { Permit } from '../domain/permit.js';

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

export class PermitDesk {
  private state: PermitState;
  /** Errors a command met, by the handle the machine was told (it names them when a waiter fails). */
  private readonly errors: unknown[] = [];
  private acquiring: Waiter<Permit> | undefined;
  private readonly releasing = new Map<string, Waiter<void>>();
  readonly guardId: string;

  constructor(private readonly run: IncidentRun) {
    // An incident that began when guards were named without the host keeps its guard.
    this.guardId = isPatched('guard-id-with-host')
      ? guardWorkflowId(run.state.target, run.host)
      : legacyGuardWorkflowId(run.state.target);
    const budgetId = budgetWorkflowId(workflowInfo().taskQueue);
    this.state = newPermitState({ guardId: this.guardId, budgetId });
  }

  /** From the settings in force when asked: the worker's, once the incident adopted them. */
  private get leaseTtlMs(): number {
    return leaseTtlMs(this.run.settings);
  }

  /** Answers from the guard and the budget. */
  listen(): void {
    setHandler(permitDecisionSignal, (answer) => {
      if (!checkPermitAnswer(answer)) this.feed({ kind: 'answer', ...answer });
    });
  }

  /** A lease and a unit of the budget; `approvedBy` names the person whose approval waives the limits. */
  acquire(approvedBy?: string): Promise<Permit> {
    const requestId = uuid4();
    const route = isPatched('permit-one-trip') ? 'one-trip' : 'in-turn';
    return new Promise((resolve, reject) => {
      this.acquiring = { resolve, reject };
      this.feed({
        kind: 'asked',
        requestId,
        route,
        leaseWaitMs: this.leaseTtlMs * 2,
        dryRun: this.run.dryRun,
        ...(approvedBy ? { approvedBy } : {}),
      });
    });
  }

  /** Gives the lease back with what happened; an unused budget unit is refunded. */
  release(requestId: string, outcome: ReleaseOutcome): Promise<void> {
    return new Promise((resolve, reject) => {
      this.releasing.set(requestId, { resolve, reject });
      this.feed({ kind: 'released', requestId, outcome, dryRun: this.run.dryRun });
    });
  }

  /** The lease held when the incident was cancelled, if any. */
  heldLease(): string | undefined {
    return this.state.held;
  }

  private feed(event: PermitEvent): void {
    const { state, commands } = onEvent(this.state, event);
    this.state = state;
    for (const command of commands) this.execute(command);
  }

  private execute(command: PermitCommand): void {
    const { run } = this;
    switch (command.kind) {
      case 'signal':
      case 'refund':
      case 'release':
        this.send(command);
        break;
      case 'start':
        this.start(command);
        break;
      case 'wait':
        this.wait(command);
        break;
      case 'show':
        run.state.guard = {
          decision: command.decision,
          reason: command.reason,
          at: new Date().toISOString(),
        };
        break;
      case 'record':
        run.record(command.event, command.detail);
        break;
      case 'settle':
        this.acquiring?.resolve(command.permit);
        this.acquiring = undefined;
        break;
      case 'gave-back':
        this.releasing.get(command.requestId)?.resolve();
        this.releasing.delete(command.requestId);
        break;
      case 'fail':
        this.fail(command);
    }
  }

  private fail(command: Extract<PermitCommand, { kind: 'fail' }>) {
    const err = this.errors[command.cause];
    if (command.waiter === 'acquire') {
      this.acquiring?.reject(err);
      this.acquiring = undefined;
      return;
    }
    this.releasing.get(command.requestId)?.reject(err);
    this.releasing.delete(command.requestId);
  }

  /** Tells the machine that a command failed, or was cancelled with the workflow. */
  private broke(command: PermitCommand, err: unknown): void {
    const cause = this.errors.push(err) - 1;
    if (isCancellation(err)) this.feed({ kind: 'cancelled', command, cause });
    else this.feed({ kind: 'failed', command, detail: describeFailure(err), cause });
  }

  private send(command: SignalCommand): void {
    signalFor(this.run, this.state, command).then(
      () => this.feed({ kind: 'sent', signal: command }),
      (err) => {
        if (command.kind === 'signal' && notFound(err)) {
          this.feed({ kind: 'not-found', signal: command, cause: this.errors.push(err) - 1 });
        } else {
          this.broke(command, err);
        }
      },
    );
  }

  /** Guards are long-lived and shared; whoever needs one first starts it, and it outlives us. */
  private start(command: StartCommand): void {
    startFor(this.run, this.state, command).then(
      () => this.feed({ kind: 'started', start: command, fresh: true }),
      (err) => {
        if (alreadyStarted(err)) this.feed({ kind: 'started', start: command, fresh: false });
        else this.broke(command, err);
      },
    );
  }

  private wait(command: WaitCommand): void {
    const over = () => waitOver(this.state, command);
    const { target } = this.run.state;
    const waited =
      command.for === 'lease-word'
        ? condition(over).then(() => true)
        : condition(over, command.ms, {
            summary:
              command.for === 'lease'
                ? `wait for the lease on ${target} from ${this.guardId}`
                : `wait for a unit of the global budget from ${this.state.budgetId}`,
          });
    waited.then(
      (inTime) => this.feed({ kind: inTime ? 'answered' : 'timeout', wait: command }),
      (err) => this.broke(command, err),
    );
  }
}
