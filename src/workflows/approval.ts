// Asking a person: the incident waits for `approve` or `reject`, telling each level of the escalation
// ladder once as each step's wait runs out, until the longest wait ends it unanswered. A decision is taken
// only while the incident awaits one, and only the first counts. Decisions come as Updates (Medic's API,
// `temporal workflow update`), which answer once the decision is taken, or as signals (the Web UI, CLI).
import { ApplicationFailure, condition, currentUpdateInfo, setHandler } from '@temporalio/workflow';
import { secondsText } from '../domain/incident.js';
import { checkDecisionPayload } from '../domain/message-checks.js';
import type { DecisionChannel, DecisionPayload, DecisionResult } from '../domain/types.js';
import { tell } from './incident/record.js';
import type { IncidentRun } from './incident/run.js';
import type { ResumePoint } from './incident/types.js';
import {
  API_UPDATE_ID_PREFIX,
  approveSignal,
  approveUpdate,
  DECISION_EXPIRED,
  INVALID_DECISION,
  NOT_AWAITING_APPROVAL,
  rejectSignal,
  rejectUpdate,
} from './messages.js';

const minutesText = (ms: number) => (ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : secondsText(ms));

export interface Decision {
  verdict: 'approved' | 'rejected';
  payload: DecisionPayload;
  channel: DecisionChannel;
  updateId?: string;
}

/** How far a wait for a decision has come: when it started, the ladder's level, the current step's end. */
export type DecisionWait = Omit<Extract<ResumePoint, { for: 'decision' }>, 'for'>;

export class ApprovalDesk {
  private decision: Decision | undefined;

  constructor(private readonly run: IncidentRun) {}

  listen(): void {
    const onSignal = (verdict: Decision['verdict']) => (payload: DecisionPayload) => {
      const { state } = this.run;
      const problem = checkDecisionPayload(payload);
      if (problem) return this.run.record('decision-refused', `a ${verdict} signal was refused: ${problem}`);
      if (!this.awaiting()) {
        this.run.record(
          'decision-ignored',
          `${verdict} by ${payload.by} ignored: incident is ${state.status}`,
        );
        return;
      }
      this.decision = { verdict, payload, channel: 'temporal-signal' };
    };
    setHandler(approveSignal, onSignal('approved'));
    setHandler(rejectSignal, onSignal('rejected'));
    for (const [update, verdict] of [
      [approveUpdate, 'approved'],
      [rejectUpdate, 'rejected'],
    ] as const) {
      setHandler(update, (payload) => this.decideByUpdate(verdict, payload), {
        validator: (payload) => this.validateUpdate(payload),
      });
    }
  }

  /** Nothing is written to history when this throws: the caller learns why, the incident is untouched. */
  private validateUpdate(payload: DecisionPayload): void {
    const problem = checkDecisionPayload(payload);
    if (problem)
      throw ApplicationFailure.create({ type: INVALID_DECISION, message: problem, nonRetryable: true });
    if (payload.notAfter && Date.now() > Date.parse(payload.notAfter)) {
      const message = `the decision arrived after ${payload.notAfter}, when its sender had given up on it`;
      throw ApplicationFailure.create({ type: DECISION_EXPIRED, message, nonRetryable: true });
    }
    if (!this.awaiting()) {
      const { status } = this.run.state;
      throw ApplicationFailure.create({
        type: NOT_AWAITING_APPROVAL,
        message: `incident ${this.run.state.workflowId} is ${status}, not AWAITING_APPROVAL: nothing to decide`,
        details: [status],
        nonRetryable: true,
      });
    }
  }

  /** Takes the decision, and answers once the incident has acted on it (REMEDIATING or REJECTED). */
  private async decideByUpdate(
    verdict: Decision['verdict'],
    payload: DecisionPayload,
  ): Promise<DecisionResult> {
    const updateId = currentUpdateInfo()?.id;
    const channel = updateId?.startsWith(API_UPDATE_ID_PREFIX) ? 'api' : 'temporal-update';
    this.decision = { verdict, payload, channel, ...(updateId ? { updateId } : {}) };
    await condition(() => this.run.state.status !== 'AWAITING_APPROVAL');
    return {
      workflowId: this.run.state.workflowId,
      decision: verdict === 'approved' ? 'approve' : 'reject',
      by: payload.by,
      status: this.run.state.status,
    };
  }

  private awaiting(): boolean {
    return this.run.state.status === 'AWAITING_APPROVAL' && this.decision === undefined;
  }

  /**
   * Sets AWAITING_APPROVAL, tells the first level and waits (or, after continue-as-new, goes on waiting
   * where the previous run left off); resolves with the decision, or undefined when nobody decided within
   * the longest wait or the sender reported the alert resolved meanwhile.
   */
  async awaitDecision(
    reason: string,
    proposed: string,
    resumed?: DecisionWait,
  ): Promise<Decision | undefined> {
    const { run } = this;
    const { levels, maxWaitMs } = run.settings.escalation;
    const wait = resumed ?? (await this.ask(reason, proposed));
    const escalatedTo = run.state.escalatedTo ?? [];
    run.state.escalatedTo = escalatedTo;
    for (;;) {
      const now = Date.now();
      const remaining = maxWaitMs - (now - wait.waitStartedMs);
      if (remaining <= 0) return undefined;
      // Once everyone on the ladder has been told, wait out the rest in one go instead of repeating it.
      const fullStep =
        wait.level < levels.length - 1 ? Math.min(run.settings.approvalTimeoutMs, remaining) : remaining;
      const step =
        wait.stepEndsAtMs === undefined
          ? fullStep
          : Math.min(Math.max(1, wait.stepEndsAtMs - now), remaining);
      wait.stepEndsAtMs = now + step;
      const waitingOn = escalatedTo.at(-1) ?? levels[wait.level] ?? 'on-call';
      const woke = await condition(
        () => this.decision !== undefined || run.resolvedBySender !== undefined || run.shouldContinueAsNew(),
        step,
        { summary: `wait for approval: ${waitingOn}, ${minutesText(step)}` },
      );
      if (this.decision !== undefined || run.resolvedBySender !== undefined) return this.decision;
      if (woke) await run.continueAsNew({ for: 'decision', ...wait });
      wait.stepEndsAtMs = undefined;
      const waited = Date.now() - wait.waitStartedMs;
      if (waited >= maxWaitMs) return undefined;
      wait.level += 1;
      const recipient = levels[wait.level] ?? 'on-call';
      escalatedTo.push(recipient);
      run.record('escalated', `no decision after ${secondsText(waited)}: escalated to ${recipient}`);
      const message = `no decision after ${secondsText(waited)}; ${reason}; proposed: ${proposed}`;
      await tell(
        run,
        'escalated',
        'critical',
        `still waiting for approval of ${run.state.workflowId}`,
        message,
        recipient,
      );
    }
  }

  /** The start of a wait: the incident awaits approval and the first level of the ladder is told. */
  private async ask(reason: string, proposed: string): Promise<DecisionWait> {
    const { run } = this;
    const first = run.settings.escalation.levels[0];
    this.decision = undefined;
    run.state.approval = { required: true, reason };
    run.setStatus('AWAITING_APPROVAL', reason);
    run.state.escalatedTo = [first ?? 'on-call'];
    await tell(
      run,
      'approval-needed',
      'warning',
      `approval needed for ${run.state.workflowId}`,
      `${reason}; proposed: ${proposed}`,
      first,
    );
    return { reason, proposed, waitStartedMs: Date.now(), level: 0 };
  }
}
