// Asking a person, and everything that can end the question: a decision (on this incident, or passed on from
// the other incident of a joined question), nobody answering, the sender reporting the alert resolved while
// the target is healthy, the limit the question was asked for ending (the incident decides again), or the
// target restarted meanwhile by someone else (the incident verifies instead of acting or asking).
import { condition } from '@temporalio/workflow';
import { secondsText } from '../../domain/incident.js';
import type { TargetNews } from '../../domain/target-desk.js';
import type { Diagnosis } from '../../domain/types.js';
import type { Decision, DecisionWait } from '../approval.js';
import { noticeWithoutWaiting } from '../legacy/acting-notice.js';
import { isPatched } from '../versions.js';
import { actingWithoutPerson, decideAgain, withdrawQuestion } from './again.js';
import type { Desks } from './desks.js';
import { checkHealthNow, verifiedHealthy } from './health.js';
import { ownerOfQuestion, passDecision } from './question.js';
import { tell } from './record.js';
import type { IncidentRun } from './run.js';
import { type Decided, ended } from './types.js';

const nowIso = () => new Date().toISOString();

export async function askPerson(
  run: IncidentRun,
  desks: Desks,
  diagnosis: Diagnosis,
  approvalReason: string,
  options: { resumed?: DecisionWait; limit?: number | undefined } = {},
): Promise<Decided> {
  let wait = options.resumed ?? (await startAsking(run, desks, diagnosis, approvalReason, options.limit));
  for (;;) {
    const started = Date.now();
    const waited = await desks.approvals.awaitDecision(wait);
    // Waiting for a limit is part of deciding; the time a person had the question is the approval's.
    run.notePhase(waited.kind === 'limit-ended' ? 'decide' : 'approve', Date.now() - started);
    switch (waited.kind) {
      case 'decided':
        return onDecision(run, desks, diagnosis, approvalReason, waited.decision, wait.waitStartedMs);
      case 'unanswered':
        return ended({ kind: 'escalated', reason: unansweredReason(run, wait), unanswered: true });
      case 'sender-resolved':
        if (await resolvedAndHealthy(run)) return ended({ kind: 'recovered-by-itself' });
        break;
      case 'limit-ended': {
        const again = await decideAgain(run, desks, diagnosis);
        if (again.kind === 'acted-meanwhile') return restartedMeanwhile(run, diagnosis, again.news);
        const pending = desks.approvals.pending();
        if (again.kind === 'permitted' && pending) {
          // A person decided while the lease was fetched: their word stands over the policy's.
          await desks.permits.release(again.requestId, 'not-acted');
          return onDecision(run, desks, diagnosis, approvalReason, pending, wait.waitStartedMs);
        }
        if (again.kind === 'permitted') {
          await withdrawQuestion(run, again.detail);
          actingWithoutPerson(run, again.detail);
          return again.decided;
        }
        wait.limitEndsAtMs = again.limitEndsAtMs;
        break;
      }
      case 'restarted':
        return restartedMeanwhile(run, diagnosis, waited.news);
      case 'question-closed':
        if (waited.unanswered)
          return ended({ kind: 'escalated', reason: `nobody decided the question of ${wait.joined}` });
        run.record(
          'question-closed',
          `the question of ${wait.joined} closed without a decision: asking again`,
        );
        desks.approvals.forget();
        wait = await startAsking(run, desks, diagnosis, approvalReason, wait.limitEndsAtMs);
    }
  }
}

/** The question: this incident's own (it tells people), or the target's open one, which it joins. */
async function startAsking(
  run: IncidentRun,
  desks: Desks,
  diagnosis: Diagnosis,
  reason: string,
  limitEndsAtMs: number | undefined,
): Promise<DecisionWait> {
  const owner = await ownerOfQuestion(run, desks.permits.guardId, diagnosis.action);
  const joined = owner !== run.state.workflowId ? owner : undefined;
  if (joined) run.record('question-joined', `joined the question of ${joined} instead of asking again`);
  return desks.approvals.ask(
    joined ? `joined the question of ${joined}; ${reason}` : reason,
    diagnosis.action,
    {
      ...(limitEndsAtMs !== undefined ? { limitEndsAtMs } : {}),
      ...(joined ? { joined } : {}),
    },
  );
}

function unansweredReason(run: IncidentRun, wait: DecisionWait): string {
  if (wait.joined)
    return `nobody decided the question of ${wait.joined} within ${secondsText(run.settings.escalation.maxWaitMs)}`;
  const maxWait = secondsText(run.settings.escalation.maxWaitMs);
  return `no approval decision within ${maxWait} (notified ${run.state.escalatedTo?.join(', ')})`;
}

/** A person decided: rejected ends the pass; approved fetches the permit (which waives the guard's limits). */
async function onDecision(
  run: IncidentRun,
  desks: Desks,
  diagnosis: Diagnosis,
  approvalReason: string,
  decision: Decision,
  askedAtMs: number,
): Promise<Decided> {
  const { state } = run;
  const { verdict, payload, channel, updateId, via } = decision;
  const { joined, with: others } = state.approval ?? {};
  state.approval = {
    required: true,
    reason: approvalReason,
    decision: verdict,
    decidedBy: payload.by,
    decidedAt: nowIso(),
    ...(payload.comment ? { comment: payload.comment } : {}),
    channel,
    ...(updateId ? { updateId } : {}),
    ...(via ? { via } : {}),
    ...(joined ? { joined } : {}),
    ...(others ? { with: others } : {}),
  };
  const passed = via ? ` (passed on from ${via})` : '';
  run.record(
    verdict,
    `by ${payload.by} via ${channel}${passed}${payload.comment ? `: ${payload.comment}` : ''}`,
  );
  const untold = await passDecision(run, decision);
  if (verdict === 'rejected') {
    return ended({
      kind: 'rejected',
      diagnosis,
      by: payload.by,
      ...(payload.comment ? { comment: payload.comment } : {}),
    });
  }
  if (joined && !untold.includes(joined)) {
    const owners = await awaitOwnersAction(run, diagnosis, joined, askedAtMs);
    if (owners.kind !== 'act-yourself') return owners;
    run.record('acting-for-owner', owners.reason);
  }
  return approvedAction(run, desks, diagnosis, payload.by);
}

/** Approved: the incident fetches the lease (the approval waives the guard's limits) and acts. */
async function approvedAction(
  run: IncidentRun,
  desks: Desks,
  diagnosis: Diagnosis,
  by: string,
): Promise<Decided> {
  // Decided: no second decision may be taken while the lease is fetched.
  run.setStatus('REMEDIATING', `approved by ${by}; asking ${desks.permits.guardId} for the lease`);
  // Those who were paged hear that someone decided (PagerDuty: acknowledge), without holding the lease up.
  if (isPatched('notify-decisions'))
    await noticeWithoutWaiting(
      tell(run, 'acting', 'info', `approved by ${by}`, `${run.state.workflowId}: approved by ${by}; acting`),
    );
  const permit = await run.timed('decide', () => desks.permits.acquire(by));
  if (permit.ok) return { kind: 'permitted', requestId: permit.requestId, diagnosis };
  return ended({ kind: 'escalated', reason: `approved by ${by}, but ${permit.reason}` });
}

/**
 * Approved on a joined question: the question's owner acts, once; this incident verifies what came of it.
 * An owner that ended before it acted (its question closed), or did not act in time, leaves the approved
 * action to this incident.
 */
async function awaitOwnersAction(
  run: IncidentRun,
  diagnosis: Diagnosis,
  owner: string,
  askedAtMs: number,
): Promise<Decided | { kind: 'act-yourself'; reason: string }> {
  const { state } = run;
  run.setStatus('REMEDIATING', `approved; ${owner}, whose question this joined, acts on ${state.target}`);
  const restart = () => run.newsSince('restarted', askedAtMs);
  const closed = () => run.newsSince('question-closed', askedAtMs);
  const waitMs = run.settings.guard.leaseTtlMs * 2;
  await condition(() => restart() !== undefined || closed() !== undefined, waitMs, {
    summary: `wait for ${owner} to act on ${state.target}`,
  });
  const news = restart();
  if (news) return restartedMeanwhile(run, diagnosis, news);
  const why = closed()
    ? `${owner} ended without acting on ${state.target}`
    : `${owner} did not act on ${state.target} within ${secondsText(waitMs)}`;
  return { kind: 'act-yourself', reason: `${why}: this incident acts on the approval itself` };
}

/** Restarted meanwhile: this incident neither acts nor asks, it verifies; still failing, it looks again. */
export async function restartedMeanwhile(
  run: IncidentRun,
  diagnosis: Diagnosis,
  news: Extract<TargetNews, { kind: 'restarted' }>,
): Promise<Decided> {
  const { state } = run;
  const by = news.by ? `the restart of ${news.by}` : 'a restart Medic did not make';
  await withdrawQuestion(run, `${state.target} was restarted meanwhile (${by})`);
  run.setStatus(
    'VERIFYING',
    `${state.target} was restarted by ${news.by ?? 'someone outside Medic'}: checking its health`,
  );
  const health = await verifiedHealthy(run);
  if (health.healthy)
    return ended({ kind: 'healed-by-other', diagnosis, ...(news.by ? { by: news.by } : {}) });
  return { kind: 'diagnose-again', reason: `still unhealthy after ${by}: ${health.detail}` };
}

/**
 * A sender's `resolved` closes the incident only when the target is healthy now; otherwise it is recorded and
 * the incident goes on. Histories from before that rule took it as it came.
 */
export async function resolvedAndHealthy(run: IncidentRun): Promise<boolean> {
  if (!isPatched('verify-before-resolved')) return true;
  const health = await checkHealthNow(run);
  if (health.healthy) return true;
  const source = run.resolvedBySender?.source ?? 'the sender';
  run.record(
    'resolved-but-unhealthy',
    `${source} reported the alert resolved, but ${run.state.target} is not healthy (${health.detail}): the incident goes on`,
  );
  run.resolvedBySender = undefined;
  return false;
}
