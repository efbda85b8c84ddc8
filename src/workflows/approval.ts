// Asking a person: the incident waits for `approve` or `reject`, telling each level of the escalation
// ladder once as each step's wait runs out, until the longest wait ends it unanswered. A decision is taken
// only while the incident awaits one, and only the first counts.
import { condition, setHandler } from '@temporalio/workflow';
import { secondsText } from '../domain/incident.js';
import { checkDecisionPayload } from '../domain/message-checks.js';
import type { DecisionPayload } from '../domain/types.js';
import type { IncidentRun, ResumePoint } from './incident-run.js';
import { approveSignal, rejectSignal } from './messages.js';

export interface Decision {
  verdict: 'approved' | 'rejected';
  payload: DecisionPayload;
}

/** How far a wait for a decision has come: when it started, the ladder's level, the current step's end. */
export type DecisionWait = Omit<Extract<ResumePoint, { for: 'decision' }>, 'for'>;

export class ApprovalDesk {
  private decision: Decision | undefined;

  constructor(private readonly run: IncidentRun) {}

  listen(): void {
    const onDecision = (verdict: Decision['verdict']) => (payload: DecisionPayload) => {
      const { state } = this.run;
      const problem = checkDecisionPayload(payload);
      if (problem) return this.run.record('decision-refused', `a ${verdict} signal was refused: ${problem}`);
      if (state.status !== 'AWAITING_APPROVAL' || this.decision) {
        this.run.record(
          'decision-ignored',
          `${verdict} by ${payload.by} ignored: incident is ${state.status}`,
        );
        return;
      }
      this.decision = { verdict, payload };
    };
    setHandler(approveSignal, onDecision('approved'));
    setHandler(rejectSignal, onDecision('rejected'));
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
      const woke = await condition(
        () => this.decision !== undefined || run.resolvedBySender !== undefined || run.shouldContinueAsNew(),
        step,
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
      await run.tell('critical', `still waiting for approval of ${run.state.workflowId}`, message, recipient);
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
    await run.tell(
      'warning',
      `approval needed for ${run.state.workflowId}`,
      `${reason}; proposed: ${proposed}`,
      first,
    );
    return { reason, proposed, waitStartedMs: Date.now(), level: 0 };
  }
}
