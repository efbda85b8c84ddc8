// One incident's story: open on the first alert, check the target may be touched, then diagnose,
// decide, (ask), restart, verify and learn, and watch for the same fault coming back. Deterministic:
// every side effect is an activity (incident-activities.ts); time comes from the workflow clock. The
// state changes are pure (domain/incident.ts); the permit and the approval ladder live beside this file.
import {
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import { secondsText, verificationCadence } from '../domain/incident.js';
import { outcomeOfPolicy } from '../domain/incident-story.js';
import { decideRemediation, type PolicyDecision } from '../domain/policy.js';
import { describeTrail } from '../domain/trail.js';
import {
  DECISIONS_KEPT,
  type DecisionRecord,
  type Diagnosis,
  type IncidentState,
  type VerificationResult,
} from '../domain/types.js';
import { ApprovalDesk, type DecisionWait } from './approval.js';
import { EngineOutage, whileEngineAway } from './engine-outage.js';
import { DEFAULT_HOST_WAIT_MS } from './incident-activities.js';
import { incidentMetrics } from './incident-metrics.js';
import {
  describeFailure,
  IncidentRun,
  type IncidentWorkflowInput,
  noWorkerTookIt,
  type ResumePoint,
} from './incident-run.js';
import { PermitDesk } from './permit.js';
import { DiagnosisSourceKey, IncidentSeverityKey, IncidentTargetKey } from './search-attributes.js';
import { isPatched } from './versions.js';

export type { IncidentWorkflowInput } from './incident-run.js';

/** A refused incident stays open to absorb copies of its alert until this long without one. */
const REFUSED_QUIET_MS = 10 * 60 * 1000;
/** Past this many history events a refused incident continues as new, so a long storm stays bounded. */
const REFUSED_HISTORY_LIMIT = 2000;

interface Desks {
  approvals: ApprovalDesk;
  permits: PermitDesk;
}

export async function incidentWorkflow(input: IncidentWorkflowInput): Promise<IncidentState> {
  const run = new IncidentRun(input);
  const desks = { approvals: new ApprovalDesk(run), permits: new PermitDesk(run) };
  run.listen();
  desks.approvals.listen();
  desks.permits.listen();
  if (input.refused) return absorbWhileRefused(run);
  await run.adoptWorkerSettings();
  if (input.resume) return healUntilItSticks(run, desks, input.resume.waiting);

  await openOnFirstAlert(run);
  const refused = await admitTarget(run);
  if (refused) return refused;
  if (run.resolvedBySender) return run.recoveredByItself();
  return healUntilItSticks(run, desks);
}

async function openOnFirstAlert(run: IncidentRun): Promise<void> {
  const { state, input } = run;
  run.upsert([{ key: IncidentTargetKey, value: input.target }]);
  run.setStatus('OPEN', `incident opened for ${input.target} (${input.alertType})`);
  await condition(() => run.ledger.first !== undefined);
  // ingest: from the API accepting the alert to the workflow holding it.
  const receivedMs = Date.parse(run.ledger.first?.receivedAt ?? '');
  if (Number.isFinite(receivedMs)) {
    run.passStartedMs = Math.min(receivedMs, Date.now());
    run.notePhase('ingest', Date.now() - receivedMs);
  }
  run.upsert([{ key: IncidentSeverityKey, value: state.severity }]);
  run.dryRun = run.settings.dryRun || run.ledger.first?.dryRun === true;
  if (run.dryRun) {
    state.dryRun = true;
    run.record('dry-run', 'dry run: everything runs, nothing is touched');
  }
}

/**
 * The target allowlist: names that are unsafe, missing, unmanaged or protected never get an action,
 * only a person. Resolves with the ended incident when the target is refused.
 */
async function admitTarget(run: IncidentRun): Promise<IncidentState | undefined> {
  const refuse = async (reason: string) => {
    await run.escalate(reason);
    return absorbWhileRefused(run);
  };
  const rejected = run.ledger.first?.targetRejected;
  if (rejected) return refuse(rejected);
  try {
    const allowlist = await whileEngineAway(run, 'checking the allowlist', () =>
      run.activities.checkTarget.executeWithOptions(
        { summary: `check that ${run.state.target} may be touched (allowlist, managed label)` },
        [{ target: run.state.target }],
      ),
    );
    if (!allowlist.allowed) return refuse(`not on the allowlist: ${allowlist.reason}`);
  } catch (err) {
    if (isCancellation(err)) throw err;
    if (noWorkerTookIt(err)) {
      const waited = secondsText(run.settings.hostWaitMs ?? DEFAULT_HOST_WAIT_MS);
      return run.escalate(
        `no Medic worker serves host ${run.host}: nothing took the allowlist check from task queue ${run.routes?.hostQueue} within ${waited}. Start a worker there with MEDIC_HOST_NAME=${run.host} (MEDIC_WORKER_ROLE=host), or check the alert's host name`,
      );
    }
    return run.escalate(`could not check the target against the allowlist: ${describeFailure(err)}`);
  }
  return undefined;
}

/**
 * A refused incident stays open, escalated, while its alert keeps firing: one incident per storm, not
 * one per copy. It ends when the sender resolves the alert or the copies stop. One timer per quiet
 * period, not one per copy: a storm costs its signals and nothing more.
 */
async function absorbWhileRefused(run: IncidentRun): Promise<IncidentState> {
  for (;;) {
    const seen = run.state.alertCount;
    await condition(() => run.resolvedBySender !== undefined, REFUSED_QUIET_MS, {
      summary: `refused: absorb copies of the alert until ${secondsText(REFUSED_QUIET_MS)} without one`,
    });
    if (run.resolvedBySender || run.state.alertCount === seen) return run.state;
    const { continueAsNewSuggested, historyLength } = workflowInfo();
    if (continueAsNewSuggested || historyLength > REFUSED_HISTORY_LIMIT) {
      await continueAsNew<typeof incidentWorkflow>({
        ...run.input,
        refused: run.state,
        seenDeliveries: run.ledger.seenDeliveries,
      });
    }
  }
}

/**
 * Remediates, then watches for the same alert; a recurrence reopens the incident for another pass. An
 * incident carried over by continue-as-new goes on with the wait it was in.
 */
async function healUntilItSticks(
  run: IncidentRun,
  desks: Desks,
  resume?: ResumePoint,
): Promise<IncidentState> {
  const { state, settings } = run;
  let recurrence: string | undefined;
  let watch = resume?.for === 'recurrence' ? resume : undefined;
  let decision = resume?.for === 'decision' ? resume : undefined;
  for (;;) {
    if (!watch) {
      const pass = decision;
      decision = undefined;
      const fixed = await remediateGivingBackTheLease(run, desks, () =>
        pass ? resumeAwaitingDecision(run, desks, pass) : remediateOnce(run, desks, recurrence),
      );
      if (!fixed || settings.recurrenceWindowMs <= 0) return state;
    }
    recurrence = await watchForRecurrence(run, watch);
    watch = undefined;
    if (!recurrence) return state;
    state.recurrences = (state.recurrences ?? 0) + 1;
    state.closedAt = undefined;
    // The sender's `resolved` for the new occurrence counts again (ingest).
    run.acting = false;
    run.resolvedBySender = undefined;
    run.passStartedMs = Date.now();
    await run.learn(state.diagnosis as Diagnosis, 'did-not-stick', recurrence);
    run.setStatus('OPEN', `reopened: ${recurrence}`);
  }
}

/**
 * After a fix, waits for the same alert to come back within the recurrence window; resolves with why it
 * reopens, or undefined when the window passed quietly. A recurrence is a new occurrence (fired after the
 * one fixed), not a late copy of the old one, such as a coalesced batch of copies received before the
 * fix and delivered after it.
 */
async function watchForRecurrence(
  run: IncidentRun,
  resumed?: Extract<ResumePoint, { for: 'recurrence' }>,
): Promise<string | undefined> {
  const { settings, ledger } = run;
  const window = secondsText(settings.recurrenceWindowMs);
  const watch = resumed ?? {
    for: 'recurrence' as const,
    firedAtFix: ledger.newestFiredAtMs,
    fixedAtMs: Date.now(),
  };
  if (!resumed) run.record('watching', `watching for the same alert for ${window}`);
  const cameBack = () => ledger.newestFiredAtMs > watch.firedAtFix;
  const remainingMs = Math.max(1, watch.fixedAtMs + settings.recurrenceWindowMs - Date.now());
  const woke = await condition(() => cameBack() || run.shouldContinueAsNew(), remainingMs, {
    summary: `watch ${run.state.target} for the same alert for ${window}`,
  });
  if (woke && !cameBack()) await run.continueAsNew(watch);
  if (!woke) {
    run.record('watch-ended', `no recurrence within ${window}`);
    return undefined;
  }
  return `the ${run.state.alertType} alert came back ${secondsText(Date.now() - watch.fixedAtMs)} after the fix`;
}

/**
 * Cancelled (by a person, from the Web UI or CLI) while holding a lease: give it back, or the target
 * stays blocked until the lease expires and the guard counts a failure.
 */
async function remediateGivingBackTheLease(run: IncidentRun, desks: Desks, pass: () => Promise<boolean>) {
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
    throw err;
  }
}

/** One pass: diagnose, decide, act, verify, learn. True when Medic restarted the target and it is healthy. */
async function remediateOnce(run: IncidentRun, desks: Desks, recurrence?: string): Promise<boolean> {
  const diagnosis = await diagnoseTarget(run);
  if (!diagnosis) return false;
  if (run.resolvedBySender) {
    run.recoveredByItself();
    return false;
  }
  const { state, settings } = run;
  const decidedFrom = {
    ...(recurrence ? { recurrence } : {}),
    ...(state.unrecognisedSeverity ? { unrecognisedSeverity: state.unrecognisedSeverity } : {}),
  };
  const policy = decideRemediation(diagnosis, state.severity, settings.policy, decidedFrom);
  const decision = noteDecision(run, diagnosis, policy, decidedFrom);
  if (policy.kind === 'escalate') {
    await run.escalate(policy.reason);
    return false;
  }
  if (policy.kind === 'none' || policy.kind === 'record') {
    state.approval = { required: false, reason: policy.reason };
    run.close('RESOLVED', policy.reason);
    return false;
  }
  let requestId: string | undefined;
  if (policy.kind === 'auto') {
    state.approval = { required: false, reason: policy.reason };
    const permit = await run.timed('decide', () => desks.permits.acquire());
    if (permit.ok) {
      requestId = permit.requestId;
      run.notePhase('approve', 0);
    } else {
      incidentMetrics.denied(permit.refusal);
      Object.assign(decision, { outcome: 'asked', permitDenied: permit.reason });
      requestId = await askPerson(run, desks, diagnosis, `outside the limits: ${permit.reason}`);
    }
  } else {
    requestId = await askPerson(run, desks, diagnosis, policy.reason);
  }
  if (!requestId) return false;
  if (policy.kind === 'auto' && policy.notify && !state.approval?.decidedBy) {
    const telling = run.tell(
      'acting',
      'info',
      `restarting ${state.target}`,
      `${state.workflowId}: ${policy.reason}`,
    );
    // Told without waiting since issue 12: a slow receiver must not hold the lease (tell never throws but
    // for a cancellation, which the incident's own cancellation handling covers).
    if (isPatched('notify-outcomes')) void telling.catch(() => undefined);
    else await telling;
  }
  return actWithPermit(run, desks, diagnosis, requestId);
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

/** A pass carried over by continue-as-new while it waited for a person: the diagnosis is the state's. */
async function resumeAwaitingDecision(
  run: IncidentRun,
  desks: Desks,
  wait: Extract<ResumePoint, { for: 'decision' }>,
): Promise<boolean> {
  const diagnosis = run.state.diagnosis as Diagnosis;
  const requestId = await askPerson(run, desks, diagnosis, wait.reason, wait);
  return requestId ? actWithPermit(run, desks, diagnosis, requestId) : false;
}

/** With the permit in hand: in a dry run, only say what would happen; otherwise restart and verify. */
async function actWithPermit(run: IncidentRun, desks: Desks, diagnosis: Diagnosis, requestId: string) {
  const { state } = run;
  if (run.dryRun) {
    const detail = `dry run: would restart ${state.target} (${diagnosis.rootCause}); nothing was touched`;
    state.actions.push({ action: 'RESTART', at: nowIso(), outcome: 'would-restart', detail });
    run.record('would-restart', detail);
    await desks.permits.release(requestId, 'not-acted');
    await run.escalate(detail);
    return false;
  }
  if (run.resolvedBySender) {
    await desks.permits.release(requestId, 'not-acted');
    run.recoveredByItself();
    return false;
  }
  return restartAndVerify(run, desks.permits, diagnosis, requestId);
}

/** The diagnosis, shown in the state, timeline, memo and search attributes; undefined if it failed (escalated). */
async function diagnoseTarget(run: IncidentRun): Promise<Diagnosis | undefined> {
  const { state } = run;
  run.setStatus('DIAGNOSING', `looking at ${state.target}`);
  let diagnosis: Diagnosis;
  try {
    const alert = run.ledger.latest ?? run.ledger.first;
    const input = {
      target: state.target,
      alertType: state.alertType,
      severity: state.severity,
      logs: alert?.logs ?? [],
    };
    const summary = `diagnose ${state.target}: ${state.alertType} (runbook, then models, then rules)`;
    // Since hosts were named, the host gathers the evidence and the central queue decides on it.
    diagnosis = await run.timed('diagnose', async () => {
      if (!run.routes) return run.activities.diagnose.executeWithOptions({ summary }, [input]);
      const evidence = await whileEngineAway(run, 'gathering evidence', () =>
        run.activities.gatherEvidence.executeWithOptions(
          { summary: `gather evidence on ${state.target}'s host: logs, state, restarts` },
          [input],
        ),
      );
      return run.activities.diagnoseEvidence.executeWithOptions({ summary }, [{ input, evidence }]);
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    await run.escalate(`diagnosis failed: ${describeFailure(err)}`);
    return undefined;
  }
  state.diagnosis = diagnosis;
  if (diagnosis.source === 'runbook') incidentMetrics.runbookHit(state.alertType);
  run.upsert([{ key: DiagnosisSourceKey, value: diagnosis.source }]);
  const { source, rootCause, action, confidence, trail, knownFix } = diagnosis;
  run.record('diagnosed', `${source}: ${rootCause} -> ${action} (confidence ${confidence})`);
  run.record('diagnosis-trail', describeTrail(trail));
  if (knownFix) run.record('runbook-standing', `${knownFix.fixId}: ${knownFix.standing}`);
  // The memo shows in the Web UI's workflow view: how this incident was diagnosed, at a glance.
  upsertMemo({ diagnosis: { source, action, confidence, trail: describeTrail(trail) } });
  return diagnosis;
}

/**
 * The permit to act after a person approves (which waives the guard's limits). Undefined when the incident
 * ended instead: rejected, unanswered (escalated), or recovered by itself while it waited.
 */
async function askPerson(
  run: IncidentRun,
  desks: Desks,
  diagnosis: Diagnosis,
  approvalReason: string,
  resumed?: DecisionWait,
): Promise<string | undefined> {
  const { state, settings } = run;
  const decided = await run.timed('approve', () =>
    desks.approvals.awaitDecision(approvalReason, diagnosis.action, resumed),
  );
  if (!decided && run.resolvedBySender) {
    run.recoveredByItself();
    return undefined;
  }
  if (!decided) {
    const maxWait = secondsText(settings.escalation.maxWaitMs);
    await run.escalate(`no approval decision within ${maxWait} (notified ${state.escalatedTo?.join(', ')})`);
    return undefined;
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
    await run.learn(diagnosis, 'rejected', `rejected by ${payload.by}`);
    run.close('REJECTED', `rejected by ${payload.by}; the container was not touched`);
    if (isPatched('notify-outcomes')) {
      const why = `rejected by ${payload.by}${payload.comment ? `: ${payload.comment}` : ''}; the container was not touched`;
      await run.tell('rejected', 'info', `${state.target}: restart rejected`, `${state.workflowId}: ${why}`);
    }
    return undefined;
  }
  // Decided: no second decision may be taken while the lease is fetched.
  run.setStatus('REMEDIATING', `approved by ${payload.by}; asking ${desks.permits.guardId} for the lease`);
  const permit = await run.timed('decide', () => desks.permits.acquire(payload.by));
  if (permit.ok) return permit.requestId;
  await run.escalate(`approved by ${payload.by}, but ${permit.reason}`);
  return undefined;
}

/**
 * Compare-and-act on the start time seen at diagnosis, then health checks with exponential backoff (the
 * activity's retry policy). The lease is held until the verification ends, then given back with its outcome.
 */
async function restartAndVerify(
  run: IncidentRun,
  permits: PermitDesk,
  diagnosis: Diagnosis,
  requestId: string,
): Promise<boolean> {
  const { state, settings } = run;
  run.acting = true;
  run.setStatus('REMEDIATING', `restarting ${state.target}`);
  noteLease(run, { grantedAt: nowIso() });
  const restarted = await restartTarget(run, permits, diagnosis, requestId);
  if (restarted === undefined) return false;
  if (restarted) incidentMetrics.acted(state.approval?.decidedBy ? 'approved' : 'automatic');
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
    return failRemediation(
      run,
      permits,
      diagnosis,
      { requestId, outcome: restarted ? 'failed' : 'not-acted' },
      reason,
    );
  }
  await permits.release(requestId, restarted ? 'succeeded' : 'not-acted');
  noteLease(run, { releasedAt: nowIso(), outcome: restarted ? 'succeeded' : 'not-acted' });
  await run.learn(diagnosis, 'resolved');
  run.close('RESOLVED', `${state.target} is healthy again`);
  if (isPatched('notify-outcomes')) {
    const how = restarted ? `restarted and healthy again: ${state.verification?.detail}` : 'healthy again';
    await run.tell('resolved', 'info', `${state.target} resolved`, `${state.workflowId}: ${how}`);
  }
  return restarted;
}

/** The restart, compare-and-act on the start time seen at diagnosis; its time is the `act` phase. */
function restartOnce(run: IncidentRun, diagnosis: Diagnosis) {
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
      },
    ]),
  );
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

/**
 * Since patch `verify-cadence`, fast probes while the target comes up, then the MEDIC_HEALTH_* backoff
 * (domain/incident.ts verificationCadence); before it, the retry policy alone.
 */
function verifyTargetHealth(run: IncidentRun): Promise<VerificationResult> {
  const { target } = run.state;
  const { maximumAttempts, backoffCoefficient } = run.settings.healthRetry;
  const summary = `verify ${target} is healthy (up to ${maximumAttempts} checks, backoff x${backoffCoefficient})`;
  if (!isPatched('verify-cadence'))
    return run.activities.verifyHealth.executeWithOptions({ summary }, [{ target }]);
  const { firstWindowMs } = verificationCadence(run.settings.healthRetry);
  return run.activities.verifyHealthPaced.executeWithOptions(
    { summary: `${summary}, fast probes for ${secondsText(firstWindowMs)} first` },
    [{ target, firstWindowMs }],
  );
}

/**
 * The restart: whether Medic's restart reached the container, or undefined when it failed and the incident
 * ended (FAILED; ESCALATED when the engine stayed away past MEDIC_ENGINE_OUTAGE_WAIT).
 */
async function restartTarget(
  run: IncidentRun,
  permits: PermitDesk,
  diagnosis: Diagnosis,
  requestId: string,
): Promise<boolean | undefined> {
  const { state } = run;
  try {
    const action = await whileEngineAway(run, `restarting ${state.target}`, () =>
      restartOnce(run, diagnosis),
    );
    state.actions.push({ ...action, at: nowIso() });
    run.record(action.outcome, action.detail);
    // A retried attempt that finds a new start time sees the restart an earlier attempt made (its worker
    // died before it could report): that restart happened, and the guard and the budget count it.
    if (action.outcome === 'already-restarted') return isPatched('already-restarted-acted');
    return action.outcome === 'restarted';
  } catch (err) {
    if (isCancellation(err)) throw err;
    const reason = `restart failed: ${describeFailure(err)}`;
    state.actions.push({ action: 'RESTART', at: nowIso(), outcome: 'failed', detail: reason });
    if (err instanceof EngineOutage) {
      // Whether a request reached the engine before it went away is unknown: counted, as a failure.
      await permits.release(requestId, 'failed');
      noteLease(run, { releasedAt: nowIso(), outcome: 'failed' });
      await run.escalate(reason);
      return undefined;
    }
    await failRemediation(run, permits, diagnosis, { requestId, outcome: 'failed' }, reason);
    return undefined;
  }
}

/** The remediation did not work: give the lease back with its outcome, learn it, tell people. */
async function failRemediation(
  run: IncidentRun,
  permits: PermitDesk,
  diagnosis: Diagnosis,
  lease: { requestId: string; outcome: 'failed' | 'not-acted' },
  reason: string,
): Promise<false> {
  const { state } = run;
  await permits.release(lease.requestId, lease.outcome);
  noteLease(run, { releasedAt: nowIso(), outcome: lease.outcome });
  await run.learn(diagnosis, 'failed', reason);
  await run.tell('failed', 'critical', `incident ${state.workflowId} failed`, reason);
  run.close('FAILED', reason);
  return false;
}

const nowIso = () => new Date().toISOString();
