// The restart step and what every step shares with it: Medic's restart (compare-and-act on the start time
// seen at diagnosis, issued once), its verification with backoff, the lease noted on the decision, and the
// lease given back when the remediation did not work. A restart somebody else made is verified, not credited.
import { isCancellation } from '@temporalio/workflow';
import type { ReleaseOutcome } from '../../domain/guard.js';
import type { ActionRecord, DecisionRecord, Diagnosis, PlanStepRecord } from '../../domain/types.js';
import { alreadyRestartedCounts } from '../legacy/already-restarted.js';
import type { PermitDesk } from '../permit.js';
import { EngineOutage, whileEngineAway } from './engine-outage.js';
import { describeFailure } from './failures.js';
import { verifiedHealthy, verifyTargetHealth } from './health.js';
import { incidentMetrics } from './metrics.js';
import type { IncidentRun } from './run.js';
import { type DiagnoseAgain, type Ended, type Ending, ended } from './types.js';

const nowIso = () => new Date().toISOString();

/** How a step of the plan went, as the plan loop reads it; `stop` has ended the pass (and given the lease back). */
export type PlanStep =
  | { kind: 'healed'; counted: boolean }
  | { kind: 'not-healed'; counted: boolean; reason: string; failed?: boolean; undone?: string }
  | {
      kind: 'stop';
      result: Ending | DiagnoseAgain;
      step?: { outcome: PlanStepRecord['outcome']; detail: string };
    };

/** The lease is held until the verification ends, then given back with its outcome. */
export async function restartAndVerify(
  run: IncidentRun,
  permits: PermitDesk,
  diagnosis: Diagnosis,
  requestId: string,
): Promise<Ending | DiagnoseAgain> {
  const restarted = await restartStep(run, permits, diagnosis, requestId, {
    last: true,
    words: `restarting ${run.state.target}`,
  });
  if (restarted.kind === 'stop') return restarted.result;
  if (restarted.kind === 'not-healed') {
    const outcome = restarted.counted ? 'failed' : 'not-acted';
    return failRemediation(run, permits, diagnosis, { requestId, outcome }, restarted.reason);
  }
  const outcome = restarted.counted ? 'succeeded' : 'not-acted';
  await giveLeaseBack(run, permits, requestId, outcome);
  return { kind: 'healed', diagnosis, restarted: restarted.counted };
}

/**
 * The restart and its verification; the lease is still held after `healed` and `not-healed`. A restart
 * that fails is the end of the pass when it is the plan's last step (FAILED), else a step that did not heal.
 */
export async function restartStep(
  run: IncidentRun,
  permits: PermitDesk,
  diagnosis: Diagnosis,
  requestId: string,
  options: { last: boolean; words: string },
): Promise<PlanStep> {
  const { state, settings } = run;
  run.acting = true;
  run.leaseActed = true;
  run.setStatus('REMEDIATING', options.words);
  noteLease(run, { grantedAt: nowIso() });
  const restart = await restartTarget(run, permits, diagnosis, requestId, options.last);
  if (restart.kind === 'ended') {
    const { ending } = restart;
    const detail = ending.kind === 'failed' || ending.kind === 'escalated' ? ending.reason : ending.kind;
    return { kind: 'stop', result: ending, step: { outcome: 'failed', detail } };
  }
  if (restart.kind === 'not-done')
    return { kind: 'not-healed', counted: true, reason: restart.reason, failed: true };
  if (restart.byOther) {
    const result = await healedByOther(run, permits, diagnosis, requestId);
    const healed = result.kind === 'healed-by-other';
    const detail = healed ? 'healthy after a restart Medic did not make' : (result as DiagnoseAgain).reason;
    return { kind: 'stop', result, step: { outcome: healed ? 'healed-by-other' : 'not-healed', detail } };
  }
  const { counted } = restart;
  if (counted) incidentMetrics.acted(state.approval?.decidedBy ? 'approved' : 'automatic');
  run.setStatus('VERIFYING', `checking ${state.target} health`);
  try {
    state.verification = await run.timed('verify', () => verifyTargetHealth(run));
    run.record('healthy', state.verification.detail);
    incidentMetrics.healthy(Date.now() - run.passStartedMs);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const attempts = settings.healthRetry.maximumAttempts;
    const detail = describeFailure(err);
    state.verification = { healthy: false, attempts, detail, checkedAt: nowIso() };
    return { kind: 'not-healed', counted, reason: `still unhealthy after ${attempts} checks: ${detail}` };
  }
  return { kind: 'healed', counted };
}

/**
 * The restart: `counted` when Medic's restart reached the container (the guard and the budget count it),
 * or the pass ended (FAILED; ESCALATED when the engine stayed away past MEDIC_ENGINE_OUTAGE_WAIT).
 */
async function restartTarget(
  run: IncidentRun,
  permits: PermitDesk,
  diagnosis: Diagnosis,
  requestId: string,
  last = true,
): Promise<
  { kind: 'restarted'; counted: boolean; byOther: boolean } | { kind: 'not-done'; reason: string } | Ended
> {
  const { state } = run;
  // A try after the engine was away may find the restart an earlier try made: the activity is told when
  // the first try began, so it asks the engine's log from then on.
  const firstTryAtMs = Date.now();
  let tries = 0;
  try {
    const action = await whileEngineAway(run, `restarting ${state.target}`, () =>
      restartOnce(run, diagnosis, tries++ > 0 ? firstTryAtMs : undefined),
    );
    state.actions.push({ ...action, at: nowIso() });
    run.record(action.outcome, action.detail);
    if (action.outcome === 'would-restart') {
      // The host's worker is in dry-run, whatever this incident was told: it ends as a dry run does.
      await giveLeaseBack(run, permits, requestId, 'not-acted');
      return ended({ kind: 'escalated', reason: action.detail });
    }
    return {
      kind: 'restarted',
      counted: restartCounts(action),
      byOther: action.outcome === 'healed-by-other',
    };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = `restart failed: ${describeFailure(err)}`;
    state.actions.push({ action: 'RESTART', at: nowIso(), outcome: 'failed', detail: reason });
    if (err instanceof EngineOutage) {
      // Whether a request reached the engine before it went away is unknown: counted, as a failure.
      await giveLeaseBack(run, permits, requestId, 'failed');
      return ended({ kind: 'escalated', reason });
    }
    // A plan goes on to its next step; a restart that was the last step fails the pass.
    if (!last) return { kind: 'not-done', reason };
    return ended(await failRemediation(run, permits, diagnosis, { requestId, outcome: 'failed' }, reason));
  }
}

/**
 * Medic's own restart counts (the guard and the budget count it): made now, or by an earlier attempt whose
 * worker died before it could report. A restart by someone else (`healed-by-other`) does not.
 */
function restartCounts(action: Omit<ActionRecord, 'at'>): boolean {
  if (action.outcome === 'already-restarted') return alreadyRestartedCounts();
  return action.outcome === 'restarted';
}

/** The restart, compare-and-act on the start time seen at diagnosis; its time is the `act` phase. */
function restartOnce(run: IncidentRun, diagnosis: Diagnosis, earlierTryAtMs: number | undefined) {
  const { state, settings } = run;
  const startedAt = diagnosis.observed.startedAt ?? '';
  const summary = `restart ${state.target} (compare-and-act on start time ${startedAt || 'unknown'})`;
  return run.timed('act', () =>
    run.activities.restartContainer.executeWithOptions({ summary }, [
      {
        incidentId: state.id,
        target: state.target,
        expectedStartedAt: startedAt,
        stopTimeoutMs: settings.restartStopTimeoutMs,
        ...(earlierTryAtMs !== undefined ? { earlierTryAtMs } : {}),
      },
    ]),
  );
}

/**
 * Someone else restarted the container since the diagnosis (its restart policy, a person, another incident):
 * Medic takes no credit. Healthy, the incident ends so; still failing, it looks again with fresh evidence.
 */
async function healedByOther(
  run: IncidentRun,
  permits: PermitDesk,
  diagnosis: Diagnosis,
  requestId: string,
): Promise<Ending | DiagnoseAgain> {
  run.setStatus('VERIFYING', `${run.state.target} was restarted by someone else: checking its health`);
  const health = await verifiedHealthy(run);
  await giveLeaseBack(run, permits, requestId, 'not-acted');
  if (health.healthy) return { kind: 'healed-by-other', diagnosis };
  run.acting = false;
  return {
    kind: 'diagnose-again',
    reason: `still unhealthy after a restart Medic did not make: ${health.detail}`,
  };
}

/** The lease this pass acted under, on its decision: the backtest replays the guard from these. */
export function noteLease(run: IncidentRun, lease: Partial<NonNullable<DecisionRecord['lease']>>) {
  const decision = run.state.decisions?.at(-1);
  if (!decision) return;
  const approvedBy = run.state.approval?.decidedBy;
  decision.lease = {
    grantedAt: decision.lease?.grantedAt ?? nowIso(),
    ...decision.lease,
    ...(approvedBy && run.state.approval?.decision === 'approved' ? { approvedBy } : {}),
    ...lease,
  };
}

/** Gives the lease back with its outcome, and notes the release on the decision it was acted under. */
export async function giveLeaseBack(
  run: IncidentRun,
  permits: PermitDesk,
  requestId: string,
  outcome: ReleaseOutcome,
): Promise<void> {
  await permits.release(requestId, outcome);
  noteLease(run, { releasedAt: nowIso(), outcome });
}

/** The remediation did not work: give the lease back with its outcome; finish.ts learns and tells it. */
export async function failRemediation(
  run: IncidentRun,
  permits: PermitDesk,
  diagnosis: Diagnosis,
  lease: { requestId: string; outcome: 'failed' | 'not-acted' },
  reason: string,
): Promise<Ending> {
  await giveLeaseBack(run, permits, lease.requestId, lease.outcome);
  return { kind: 'failed', diagnosis, reason };
}
