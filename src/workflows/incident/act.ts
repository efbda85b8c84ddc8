// The act step, with the permit in hand: in a dry run only say what would happen; otherwise restart the
// target (compare-and-act on the start time seen at diagnosis), verify its health with backoff, and give
// the lease back with the outcome. It ends the pass: healed, failed, or escalated.
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { ActionRecord, DecisionRecord, Diagnosis } from '../../domain/types.js';
import { alreadyRestartedCounts } from '../legacy/already-restarted.js';
import type { PermitDesk } from '../permit.js';
import { resolvedAndHealthy } from './ask.js';
import type { Desks } from './desks.js';
import { EngineOutage, whileEngineAway } from './engine-outage.js';
import { describeFailure } from './failures.js';
import { verifiedHealthy, verifyTargetHealth } from './health.js';
import { incidentMetrics } from './metrics.js';
import { leaveTarget } from './question.js';
import type { IncidentRun } from './run.js';
import { type DiagnoseAgain, type Ended, type Ending, ended } from './types.js';

const nowIso = () => new Date().toISOString();

export async function act(
  run: IncidentRun,
  desks: Desks,
  diagnosis: Diagnosis,
  requestId: string,
): Promise<Ending | DiagnoseAgain> {
  const { state } = run;
  if (run.dryRun) {
    const detail = `dry run: would restart ${state.target} (${diagnosis.rootCause}); nothing was touched`;
    state.actions.push({ action: 'RESTART', at: nowIso(), outcome: 'would-restart', detail });
    run.record('would-restart', detail);
    await desks.permits.release(requestId, 'not-acted');
    return { kind: 'escalated', reason: detail };
  }
  if (run.resolvedBySender && (await resolvedAndHealthy(run))) {
    await desks.permits.release(requestId, 'not-acted');
    return { kind: 'recovered-by-itself' };
  }
  return restartAndVerify(run, desks.permits, diagnosis, requestId);
}

/**
 * Cancelled (by a person, from the Web UI or CLI) while holding a lease: give it back, or the target
 * stays blocked until the lease expires and the guard counts a failure.
 */
export async function givingBackTheLease(
  run: IncidentRun,
  desks: Desks,
  pass: () => Promise<Ending>,
): Promise<Ending> {
  try {
    return await pass();
  } catch (err) {
    const lease = desks.permits.heldLease();
    if (isCancellation(err) && lease) {
      const acted = ['REMEDIATING', 'VERIFYING'].includes(run.state.status);
      await CancellationScope.nonCancellable(() =>
        desks.permits.release(lease, acted ? 'failed' : 'not-acted'),
      );
    }
    // Its question goes with it: the guard hands the next asker the question, and tells those who joined.
    if (isCancellation(err) && run.askedGuard)
      await CancellationScope.nonCancellable(() => leaveTarget(run, desks.permits.guardId, false));
    throw err;
  }
}

/** The lease is held until the verification ends, then given back with its outcome. */
async function restartAndVerify(
  run: IncidentRun,
  permits: PermitDesk,
  diagnosis: Diagnosis,
  requestId: string,
): Promise<Ending | DiagnoseAgain> {
  const { state, settings } = run;
  run.acting = true;
  run.setStatus('REMEDIATING', `restarting ${state.target}`);
  noteLease(run, { grantedAt: nowIso() });
  const restart = await restartTarget(run, permits, diagnosis, requestId);
  if (restart.kind === 'ended') return restart.ending;
  if (restart.byOther) return healedByOther(run, permits, diagnosis, requestId);
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
    const reason = `still unhealthy after ${attempts} checks: ${detail}`;
    const outcome = counted ? 'failed' : 'not-acted';
    return failRemediation(run, permits, diagnosis, { requestId, outcome }, reason);
  }
  await permits.release(requestId, counted ? 'succeeded' : 'not-acted');
  noteLease(run, { releasedAt: nowIso(), outcome: counted ? 'succeeded' : 'not-acted' });
  return { kind: 'healed', diagnosis, restarted: counted };
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
): Promise<{ kind: 'restarted'; counted: boolean; byOther: boolean } | Ended> {
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
      await permits.release(requestId, 'not-acted');
      noteLease(run, { releasedAt: nowIso(), outcome: 'not-acted' });
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
      await permits.release(requestId, 'failed');
      noteLease(run, { releasedAt: nowIso(), outcome: 'failed' });
      return ended({ kind: 'escalated', reason });
    }
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
  await permits.release(requestId, 'not-acted');
  noteLease(run, { releasedAt: nowIso(), outcome: 'not-acted' });
  if (health.healthy) return { kind: 'healed-by-other', diagnosis };
  run.acting = false;
  return {
    kind: 'diagnose-again',
    reason: `still unhealthy after a restart Medic did not make: ${health.detail}`,
  };
}

/** The lease this pass acted under, on its decision: the backtest replays the guard from these. */
function noteLease(run: IncidentRun, lease: Partial<NonNullable<DecisionRecord['lease']>>) {
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

/** The remediation did not work: give the lease back with its outcome; finish.ts learns and tells it. */
async function failRemediation(
  run: IncidentRun,
  permits: PermitDesk,
  diagnosis: Diagnosis,
  lease: { requestId: string; outcome: 'failed' | 'not-acted' },
  reason: string,
): Promise<Ending> {
  await permits.release(lease.requestId, lease.outcome);
  noteLease(run, { releasedAt: nowIso(), outcome: lease.outcome });
  return { kind: 'failed', diagnosis, reason };
}
