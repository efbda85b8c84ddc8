// Asking a person: the incident waits for `approve` or `reject`, telling each level of the escalation
// ladder once as each step's wait runs out, until the longest wait ends it unanswered. A decision is taken
// only while the incident awaits one, and only the first counts. Decisions come as Updates (Medic's API,
// `temporal workflow update`), which answer once the decision is taken, or as signals (the Web UI, CLI), or
// passed on from the other incident of a joined question. The wait also ends when its reason does: the
// limit it was asked for ends, the target was restarted meanwhile, or the question it joined closed.
import { ApplicationFailure, condition, currentUpdateInfo, setHandler } from '@temporalio/workflow';
import { secondsText } from '../domain/incident.js';
import { checkDecisionPayload, checkPassedDecision } from '../domain/message-checks.js';
import type { TargetNews } from '../domain/target-desk.js';
import type { DecisionChannel, DecisionPayload, DecisionResult } from '../domain/types.js';
import { climbLadder } from './approval-ladder.js';
import { listenForRefusals } from './decision-refusals.js';
import { tell } from './incident/record.js';
import type { IncidentRun } from './incident/run.js';
import type { ResumePoint } from './incident/types.js';
import {
  approveSignal,
  approveUpdate,
  DECISION_EXPIRED,
  decisionChannelOf,
  INVALID_DECISION,
  NOT_AWAITING_APPROVAL,
  passedDecisionSignal,
  rejectSignal,
  rejectUpdate,
} from './messages.js';

const minutesText = (ms: number) => (ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : secondsText(ms));

export interface Decision {
  verdict: 'approved' | 'rejected';
  payload: DecisionPayload;
  channel: DecisionChannel;
  updateId?: string;
  /** Taken on the other incident of a joined question, and passed on from it. */
  via?: string;
}

/** How far a wait for a decision has come: when it started, the ladder's level, the current step's end. */
export type DecisionWait = Omit<Extract<ResumePoint, { for: 'decision' }>, 'for'>;

/** How a wait for a person ended. */
export type Waited =
  | { kind: 'decided'; decision: Decision }
  | { kind: 'unanswered' }
  | { kind: 'sender-resolved' }
  /** Only a limit stood in the way, and it has ended: decide again. */
  | { kind: 'limit-ended' }
  /** The target was restarted while the incident waited: by another incident, or from outside Medic. */
  | { kind: 'restarted'; news: Extract<TargetNews, { kind: 'restarted' }> }
  /** The question this incident joined closed without a decision for it. */
  | { kind: 'question-closed'; unanswered: boolean };

export class ApprovalDesk {
  private decision: Decision | undefined;

  constructor(private readonly run: IncidentRun) {}

  listen(): void {
    const onSignal = (verdict: Decision['verdict']) => (payload: DecisionPayload) => {
      const problem = checkDecisionPayload(payload);
      if (problem) return this.run.record('decision-refused', `a ${verdict} signal was refused: ${problem}`);
      this.take({ verdict, payload, channel: 'temporal-signal' });
    };
    setHandler(approveSignal, onSignal('approved'));
    setHandler(rejectSignal, onSignal('rejected'));
    listenForRefusals(this.run);
    setHandler(passedDecisionSignal, (passed) => {
      const problem = checkPassedDecision(passed);
      if (problem) return this.run.record('decision-refused', `a passed decision was refused: ${problem}`);
      const { verdict, by, comment, channel, via } = passed;
      // Only the other incidents of this question may pass a decision on.
      const partners = [this.run.state.approval?.joined, ...this.run.joiners.map((j) => j.workflowId)];
      if (!partners.includes(via))
        return this.run.record(
          'decision-refused',
          `a decision passed on from ${via}, which shares no question with this incident, was refused`,
        );
      this.take({ verdict, payload: { by, ...(comment ? { comment } : {}) }, channel, via });
    });
    for (const [update, verdict] of [
      [approveUpdate, 'approved'],
      [rejectUpdate, 'rejected'],
    ] as const) {
      setHandler(update, (payload) => this.decideByUpdate(verdict, payload), {
        validator: (payload) => this.validateUpdate(payload),
      });
    }
  }

  private take(decision: Decision): void {
    if (!this.awaiting()) {
      const how = decision.via ? ` (passed on from ${decision.via})` : '';
      this.run.record(
        'decision-ignored',
        `${decision.verdict} by ${decision.payload.by}${how} ignored: incident is ${this.run.state.status}`,
      );
      return;
    }
    this.decision = decision;
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
    this.decision = {
      verdict,
      payload,
      channel: decisionChannelOf(updateId),
      ...(updateId ? { updateId } : {}),
    };
    await condition(() => this.run.state.status !== 'AWAITING_APPROVAL');
    return {
      workflowId: this.run.state.workflowId,
      decision: verdict === 'approved' ? 'approve' : 'reject',
      by: payload.by,
      status: this.run.state.status,
    };
  }

  private awaiting(): boolean {
    return (
      this.run.state.status === 'AWAITING_APPROVAL' && this.decision === undefined && !this.run.withdrawing
    );
  }

  /**
   * Waits for a decision (the ladder climbing as each step runs out; a joiner leaves the telling to the
   * question's owner) or for the wait's reason to end. `wait` is the wait as it started (ask) or as a run
   * carried over by continue-as-new left it; it is updated as the ladder climbs.
   */
  async awaitDecision(wait: DecisionWait): Promise<Waited> {
    const { run } = this;
    const { levels, maxWaitMs } = run.settings.escalation;
    const escalatedTo = run.state.escalatedTo ?? [];
    run.state.escalatedTo = escalatedTo;
    // News from the asking on, also what came between two of its waits (deciding again, a health check).
    const restarted = () => run.newsSince('restarted', wait.waitStartedMs);
    const closed = () => run.newsSince('question-closed', wait.waitStartedMs);
    for (;;) {
      const now = Date.now();
      const remaining = maxWaitMs - (now - wait.waitStartedMs);
      if (remaining <= 0) return { kind: 'unanswered' };
      // Once everyone on the ladder has been told, wait out the rest in one go instead of repeating it.
      const climbs = !wait.joined && wait.level < levels.length - 1;
      const fullStep = climbs ? Math.min(run.settings.approvalTimeoutMs, remaining) : remaining;
      let step =
        wait.stepEndsAtMs === undefined
          ? fullStep
          : Math.min(Math.max(1, wait.stepEndsAtMs - now), remaining);
      wait.stepEndsAtMs = now + step;
      if (wait.limitEndsAtMs !== undefined) step = Math.min(step, Math.max(1, wait.limitEndsAtMs - now));
      const waitingOn = wait.joined
        ? `the question of ${wait.joined}`
        : (escalatedTo.at(-1) ?? levels[wait.level] ?? 'on-call');
      const woke = await condition(
        () =>
          this.decision !== undefined ||
          run.resolvedBySender !== undefined ||
          restarted() !== undefined ||
          closed() !== undefined ||
          run.shouldContinueAsNew(),
        step,
        { summary: `wait for approval: ${waitingOn}, ${minutesText(step)}` },
      );
      if (this.decision !== undefined) return { kind: 'decided', decision: this.decision };
      if (run.resolvedBySender !== undefined) return { kind: 'sender-resolved' };
      const [news, closing] = [restarted(), closed()];
      if (news) return { kind: 'restarted', news };
      if (closing) return { kind: 'question-closed', unanswered: closing.unanswered };
      if (woke) await run.continueAsNew({ for: 'decision', ...wait });
      if (Date.now() >= (wait.limitEndsAtMs ?? Number.POSITIVE_INFINITY)) return { kind: 'limit-ended' };
      if (Date.now() < wait.stepEndsAtMs) continue;
      wait.stepEndsAtMs = undefined;
      const waited = Date.now() - wait.waitStartedMs;
      if (waited >= maxWaitMs) return { kind: 'unanswered' };
      if (wait.joined) continue;
      await climbLadder(this.run, wait, waited);
    }
  }

  /** The start of a wait: the incident awaits approval and the first level of the ladder is told. */
  async ask(reason: string, proposed: string, extra: Partial<DecisionWait> = {}): Promise<DecisionWait> {
    const { run } = this;
    const first = run.settings.escalation.levels[0];
    this.decision = undefined;
    const now = Date.now();
    run.state.approval = {
      required: true,
      reason,
      // What a Slack button binds a click to, and when the question goes unanswered.
      askedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + run.settings.escalation.maxWaitMs).toISOString(),
      proposed,
      ...(run.state.approval?.with ? { with: run.state.approval.with } : {}),
    };
    if (extra.limitEndsAtMs !== undefined)
      run.state.approval.limitEndsAt = new Date(extra.limitEndsAtMs).toISOString();
    if (extra.joined) run.state.approval.joined = extra.joined;
    run.setStatus('AWAITING_APPROVAL', reason);
    run.state.escalatedTo = extra.joined ? [] : [first ?? 'on-call'];
    if (!extra.joined) {
      const also = run.state.approval.with?.map((w) => w.alertType) ?? [];
      const alertTypes = also.length > 0 ? ` (also ${also.join(', ')} on the same target)` : '';
      await tell(
        run,
        'approval-needed',
        'warning',
        `approval needed for ${run.state.workflowId}`,
        `${reason}; proposed: ${proposed}${alertTypes}`,
        first,
      );
    }
    return { reason, proposed, waitStartedMs: Date.now(), level: 0, ...extra };
  }

  /** A new wait (decided again, then asked again): the next decision is awaited afresh. */
  forget(): void {
    this.decision = undefined;
  }

  /** A decision taken while the incident was busy between two waits (deciding again, checking health). */
  pending(): Decision | undefined {
    return this.decision;
  }
}
