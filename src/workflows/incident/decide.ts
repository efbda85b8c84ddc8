// The decide step: the policy (severity x confidence x what the runbook knows) says whether Medic may act
// alone; acting alone needs the permit (the target's lease and a unit of the global budget), and anything
// else, a refused permit included, is a question to a person (approval.ts's ladder).
import { secondsText } from '../../domain/incident.js';
import { outcomeOfPolicy } from '../../domain/incident-story.js';
import { decideRemediation, type PolicyDecision } from '../../domain/policy.js';
import { DECISIONS_KEPT, type DecisionRecord, type Diagnosis } from '../../domain/types.js';
import type { ApprovalDesk, DecisionWait } from '../approval.js';
import { noticeWithoutWaiting } from '../legacy/acting-notice.js';
import type { PermitDesk } from '../permit.js';
import { incidentMetrics } from './metrics.js';
import { tell } from './record.js';
import type { IncidentRun } from './run.js';
import { type Decided, ended } from './types.js';

export interface Desks {
  approvals: ApprovalDesk;
  permits: PermitDesk;
}

const nowIso = () => new Date().toISOString();

export async function decide(
  run: IncidentRun,
  desks: Desks,
  diagnosis: Diagnosis,
  recurrence?: string,
): Promise<Decided> {
  const { state, settings } = run;
  const decidedFrom = {
    ...(recurrence ? { recurrence } : {}),
    ...(state.unrecognisedSeverity ? { unrecognisedSeverity: state.unrecognisedSeverity } : {}),
  };
  const policy = decideRemediation(diagnosis, state.severity, settings.policy, decidedFrom);
  const decision = noteDecision(run, diagnosis, policy, decidedFrom);
  if (policy.kind === 'escalate') return ended({ kind: 'escalated', reason: policy.reason });
  if (policy.kind === 'none' || policy.kind === 'record') {
    state.approval = { required: false, reason: policy.reason };
    return ended({ kind: 'nothing-to-do', reason: policy.reason });
  }
  let decided: Decided;
  if (policy.kind === 'auto') {
    state.approval = { required: false, reason: policy.reason };
    const permit = await run.timed('decide', () => desks.permits.acquire());
    if (permit.ok) {
      run.notePhase('approve', 0);
      decided = { kind: 'permitted', requestId: permit.requestId, diagnosis };
    } else {
      incidentMetrics.denied(permit.refusal);
      Object.assign(decision, { outcome: 'asked', permitDenied: permit.reason });
      decided = await askPerson(run, desks, diagnosis, `outside the limits: ${permit.reason}`);
    }
  } else {
    decided = await askPerson(run, desks, diagnosis, policy.reason);
  }
  if (decided.kind === 'permitted' && policy.kind === 'auto' && policy.notify && !state.approval?.decidedBy) {
    const telling = tell(
      run,
      'acting',
      'info',
      `restarting ${state.target}`,
      `${state.workflowId}: ${policy.reason}`,
    );
    await noticeWithoutWaiting(telling);
  }
  return decided;
}

/** Records what the policy decided and from what, so the decision can be replayed (npm run backtest). */
function noteDecision(
  run: IncidentRun,
  diagnosis: Diagnosis,
  policy: PolicyDecision,
  context: { recurrence?: string; unrecognisedSeverity?: string },
): DecisionRecord {
  const decision: DecisionRecord = {
    at: nowIso(),
    outcome: outcomeOfPolicy(policy.kind),
    policy: policy.kind,
    severity: run.state.severity,
    confidence: diagnosis.confidence,
    action: diagnosis.action,
    ...context,
  };
  const decisions = run.state.decisions ?? [];
  decisions.push(decision);
  if (decisions.length > DECISIONS_KEPT) decisions.splice(0, decisions.length - DECISIONS_KEPT);
  run.state.decisions = decisions;
  return decision;
}

/**
 * A person decides (an approval waives the guard's limits, not its one-action-at-a-time), then the permit
 * is fetched. The pass ends instead when the person rejects, nobody answers (escalated), or the sender
 * reports the alert resolved while it waited. `resumed`: a wait carried over by continue-as-new.
 */
export async function askPerson(
  run: IncidentRun,
  desks: Desks,
  diagnosis: Diagnosis,
  approvalReason: string,
  resumed?: DecisionWait,
): Promise<Decided> {
  const { state, settings } = run;
  const decided = await run.timed('approve', () =>
    desks.approvals.awaitDecision(approvalReason, diagnosis.action, resumed),
  );
  if (!decided && run.resolvedBySender) return ended({ kind: 'recovered-by-itself' });
  if (!decided) {
    const maxWait = secondsText(settings.escalation.maxWaitMs);
    const reason = `no approval decision within ${maxWait} (notified ${state.escalatedTo?.join(', ')})`;
    return ended({ kind: 'escalated', reason });
  }
  const { verdict, payload, channel, updateId } = decided;
  state.approval = {
    required: true,
    reason: approvalReason,
    decision: verdict,
    decidedBy: payload.by,
    decidedAt: nowIso(),
    ...(payload.comment ? { comment: payload.comment } : {}),
    channel,
    ...(updateId ? { updateId } : {}),
  };
  run.record(verdict, `by ${payload.by} via ${channel}${payload.comment ? `: ${payload.comment}` : ''}`);
  if (verdict === 'rejected') {
    return ended({
      kind: 'rejected',
      diagnosis,
      by: payload.by,
      ...(payload.comment ? { comment: payload.comment } : {}),
    });
  }
  // Decided: no second decision may be taken while the lease is fetched.
  run.setStatus('REMEDIATING', `approved by ${payload.by}; asking ${desks.permits.guardId} for the lease`);
  const permit = await run.timed('decide', () => desks.permits.acquire(payload.by));
  if (permit.ok) return { kind: 'permitted', requestId: permit.requestId, diagnosis };
  return ended({ kind: 'escalated', reason: `approved by ${payload.by}, but ${permit.reason}` });
}
