// Asking a person: the incident waits for `approve` or `reject`, telling each level of the escalation
// ladder once as each step's wait runs out, until the longest wait ends it unanswered. A decision is taken
// only while the incident awaits one, and only the first counts.
import { condition, setHandler } from '@temporalio/workflow';
import { secondsText } from '../domain/incident.js';
import { checkDecisionPayload } from '../domain/message-checks.js';
import type { DecisionPayload } from '../domain/types.js';
import type { IncidentRun } from './incident-run.js';
import { approveSignal, rejectSignal } from './messages.js';

export interface Decision {
  verdict: 'approved' | 'rejected';
  payload: DecisionPayload;
}

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
   * Sets AWAITING_APPROVAL, tells the first level and waits; resolves with the decision, or undefined
   * when nobody decided within the longest wait or the sender reported the alert resolved meanwhile.
   */
  async awaitDecision(reason: string, proposed: string): Promise<Decision | undefined> {
    const { run } = this;
    const { levels, maxWaitMs } = run.settings.escalation;
    this.decision = undefined;
    run.state.approval = { required: true, reason };
    run.setStatus('AWAITING_APPROVAL', reason);
    let level = 0;
    const escalatedTo = [levels[0] ?? 'on-call'];
    run.state.escalatedTo = escalatedTo;
    await run.tell(
      'warning',
      `approval needed for ${run.state.workflowId}`,
      `${reason}; proposed: ${proposed}`,
      levels[0],
    );
    const waitStarted = Date.now();
    for (;;) {
      const remaining = maxWaitMs - (Date.now() - waitStarted);
      if (remaining <= 0) return undefined;
      // Once everyone on the ladder has been told, wait out the rest in one go instead of repeating it.
      const step =
        level < levels.length - 1 ? Math.min(run.settings.approvalTimeoutMs, remaining) : remaining;
      if (await condition(() => this.decision !== undefined || run.resolvedBySender !== undefined, step)) {
        return this.decision;
      }
      const waited = Date.now() - waitStarted;
      if (waited >= maxWaitMs) return undefined;
      level += 1;
      const recipient = levels[level] ?? 'on-call';
      escalatedTo.push(recipient);
      run.record('escalated', `no decision after ${secondsText(waited)}: escalated to ${recipient}`);
      const message = `no decision after ${secondsText(waited)}; ${reason}; proposed: ${proposed}`;
      await run.tell('critical', `still waiting for approval of ${run.state.workflowId}`, message, recipient);
    }
  }
}
